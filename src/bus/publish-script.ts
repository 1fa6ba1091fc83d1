/**
 * One publish, atomically: for each draft not already published under its idempotency key,
 * give it the next id of the shared id clock, XADD it to the history stream with that id (unless
 * the publish is live-only), and PUBLISH the event; then trim the stream by age and remember the
 * ids under the keys. A publish is thus never half done, and the channel's order is id order.
 *
 * The clock, not the stream, assigns ids, so that events kept in the stream and live-only ones
 * (never in it) share one order: `ms = max(now, last ms)`, the sequence counting on within a
 * millisecond, as Redis does for a stream. The clock key holds `last`, the newest id issued, and
 * `origin`, the first id of the history it numbers: an id before it comes from a history that
 * was lost. With no clock yet (a new Redis, or a stream written before the clock), it starts
 * after the stream's newest id, its origin the stream's oldest entry.
 *
 * One call carries the publishes of several requests to the partition (see GroupCommit), each
 * handled as if it ran alone, in the order given: a request key that an earlier request of the same
 * call used gets that request's ids.
 *
 * KEYS: 1 the stream, 2 the clock, then per request its idempotency key and one per draft; an
 * idempotency key that is the stream's own name (KEYS[1]) means none: an empty name would hash to
 * another cluster slot than the others, and no idempotency key can be the stream.
 * ARGV: 1 channel, 2 max events, 3 max age ms, 4 '1' to keep in the stream or '0' for live only,
 * 5 what the published ids start with (the partition's name and a colon, or nothing with one
 * partition), then per request: its number of drafts, its idempotency TTL ms, then per draft: how
 * many route channels it is published on too (its user's, its rooms'), those channels, and its
 * JSON. It returns, per request, the JSON array of its ids as the stream holds them.
 *
 * Every key and the channel carry one hash tag, so on a cluster the whole script runs on the
 * node that owns that slot, and the channel's publish command is SPUBLISH there (see pubsub.ts).
 */
export function publishScript (publish: 'PUBLISH' | 'SPUBLISH'): string {
  return PUBLISH_SCRIPT.replaceAll('PUBLISH_COMMAND', publish)
}

const PUBLISH_SCRIPT = `
-- Every idempotency key is read before anything is written, so a call that fails (a key or the
-- stream holding another type) fails whole, and none of its requests is half done. Keys set on the
-- way are noted here, so a later request of the call sees what an earlier one remembered.
local known = {}
for k = 3, #KEYS do
  if KEYS[k] ~= KEYS[1] then known[KEYS[k]] = redis.call('GET', KEYS[k]) end
end
if ARGV[4] == '1' then
  local kind = redis.call('TYPE', KEYS[1])['ok']
  if kind ~= 'stream' and kind ~= 'none' then return redis.error_reply('WRONGTYPE the history is a ' .. kind) end
end
local function remembered (key)
  if key == KEYS[1] then return false end
  return known[key]
end
local function remember (key, value, ttl)
  redis.call('SET', key, value, 'PX', ttl)
  known[key] = value
end
local function parse (id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function field (reply, name)
  for j = 1, #reply, 2 do
    if reply[j] == name then return reply[j + 1] end
  end
  return false
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = redis.call('HGET', KEYS[2], 'last')
local seeding = not last
local origin = false
if seeding then
  local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
  last = '0-0'
  if not info.err then
    last = field(info, 'last-generated-id')
    local first = field(info, 'first-entry')
    if first then origin = first[1] end
  end
end
local ms, seq = parse(last)
local keep = ARGV[4] == '1'
local issued = false
local results = {}
local k = 3
local i = 6
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local ttl = ARGV[i + 1]
  local request = KEYS[k]
  local prior = remembered(request)
  i = i + 2
  k = k + 1
  if prior then
    for _ = 1, count do i = i + tonumber(ARGV[i]) + 2 end
    k = k + count
    results[#results + 1] = prior
  else
    local ids = {}
    for _ = 1, count do
      local routes = tonumber(ARGV[i])
      local draft = ARGV[i + routes + 1]
      local key = KEYS[k]
      local id = remembered(key)
      if not id then
        if now > ms then ms, seq = now, 0 else seq = seq + 1 end
        id = string.format('%.0f-%.0f', ms, seq)
        if keep then
          local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], id, 'e', draft)
          if type(added) == 'table' and added.err then
            -- Another writer added a newer entry with an id of its own: the stream's next id is ours.
            id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', draft)
            ms, seq = parse(id)
          end
        end
        origin = origin or id
        issued = id
        local event = '{"id":"' .. ARGV[5] .. id .. '",' .. string.sub(draft, 2)
        redis.call('PUBLISH_COMMAND', ARGV[1], event)
        for r = i + 1, i + routes do redis.call('PUBLISH_COMMAND', ARGV[r], event) end
        if key ~= KEYS[1] then remember(key, id, ttl) end
      end
      ids[#ids + 1] = id
      i = i + routes + 2
      k = k + 1
    end
    local result = cjson.encode(ids)
    if request ~= KEYS[1] then remember(request, result, ttl) end
    results[#results + 1] = result
  end
end
if issued then
  redis.call('HSET', KEYS[2], 'last', issued)
  if seeding then redis.call('HSET', KEYS[2], 'origin', origin) end
end
if keep then redis.call('XTRIM', KEYS[1], 'MINID', '~', now - tonumber(ARGV[3])) end
return results`
