import type { Redis, Result } from 'ioredis'
import { compareIds } from '../event-id.js'
import { type EventDraft, eventJson, isGatewayEvent } from '../events.js'
import type { History, HistoryPage, Retention } from '../history.js'
import type { BusMessage, Idempotency } from './bus.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** The publish script: the number of keys, the keys, then the arguments. */
    eventgatePublish: (...keysThenArgs: Array<string | number>) => Result<string, Context>
  }
}

export const EVENTS_CHANNEL = 'eventgate:events'
export const HISTORY_KEY = 'eventgate:history'
const IDEMPOTENCY_PREFIX = 'eventgate:idempotency:'

/**
 * One publish, atomically: for each draft not already published under its idempotency key,
 * XADD it to the history stream (which assigns the ordered id) and PUBLISH the event with that
 * id; then trim the stream by age and remember the ids under the keys. A publish is thus never
 * half done, and the stream's order is the order every instance receives.
 *
 * KEYS: 1 the stream, 2 the request's idempotency key ('' for none), 3.. one per draft ('' for none)
 * ARGV: 1 channel, 2 max events, 3 max age ms, 4 idempotency TTL ms, 5.. the drafts' JSON
 */
const PUBLISH = `
local function remembered (key)
  if key == '' then return false end
  return redis.call('GET', key)
end
local prior = remembered(KEYS[2])
if prior then return prior end
local ids = {}
for i = 5, #ARGV do
  local key = KEYS[i - 2]
  local id = remembered(key)
  if not id then
    local draft = ARGV[i]
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', draft)
    redis.call('PUBLISH', ARGV[1], '{"id":"' .. id .. '",' .. string.sub(draft, 2))
    if key ~= '' then redis.call('SET', key, id, 'PX', ARGV[4]) end
  end
  ids[#ids + 1] = id
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('XTRIM', KEYS[1], 'MINID', '~', now - tonumber(ARGV[3]))
local result = cjson.encode(ids)
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], result, 'PX', ARGV[4]) end
return result`

/** The event log in Redis: a stream for history, written and published by one script. */
export class RedisEventLog implements History {
  constructor (private readonly redis: Redis, private readonly retention: Retention) {
    // Sent by SHA (EVALSHA, reloaded on NOSCRIPT) rather than its whole text with every publish.
    redis.defineCommand('eventgatePublish', { lua: PUBLISH })
  }

  async publish (drafts: readonly EventDraft[], idempotency?: Idempotency): Promise<string[]> {
    const key = (k: string | undefined): string => k === undefined ? '' : IDEMPOTENCY_PREFIX + k
    const keys = [HISTORY_KEY, key(idempotency?.requestKey), ...drafts.map((_, i) => key(idempotency?.eventKeys?.[i]))]
    const result = await this.redis.eventgatePublish(
      keys.length, ...keys,
      EVENTS_CHANNEL, this.retention.maxEvents, this.retention.maxAgeMs, idempotency?.ttlMs ?? 1,
      ...drafts.map((d) => JSON.stringify(d))
    )
    return JSON.parse(String(result)) as string[]
  }

  async after (since: string, limit: number): Promise<HistoryPage> {
    const [entries, info, itself] = await Promise.all([
      this.redis.xrange(HISTORY_KEY, `(${since}`, '+', 'COUNT', limit),
      this.streamInfo(),
      this.redis.xrange(HISTORY_KEY, since, since)
    ])
    const messages = entries.flatMap(([id, fields]) => {
      const message = toMessage(id, fields[1])
      return message === undefined ? [] : [message]
    })
    // Trimming by MAXLEN or MINID does not advance max-deleted-entry-id on every Redis version,
    // so an id the stream does not hold counts as lost: trimmed, or from a history Redis lost
    // (restarted without persistence). From the start ('0-0'), what was ever added and is no
    // longer held was trimmed.
    const lost = since === '0-0' ? info.entriesAdded > info.length : itself.length === 0
    const truncated = lost || compareIds(since, info.maxDeleted) < 0 || compareIds(since, info.lastGenerated) > 0
    return { messages, truncated }
  }

  /** The id of the newest event ever added ('0-0' for none): where a new subscriber starts. */
  async lastId (): Promise<string> {
    return (await this.streamInfo()).lastGenerated
  }

  private async streamInfo (): Promise<StreamInfo> {
    let info: unknown[]
    try {
      info = await this.redis.xinfo('STREAM', HISTORY_KEY) as unknown[]
    } catch (err) {
      if (/no such key/i.test((err as Error).message)) return { maxDeleted: '0-0', lastGenerated: '0-0', entriesAdded: 0, length: 0 }
      throw err
    }
    const field = (name: string): unknown => info[info.indexOf(name) + 1]
    return {
      maxDeleted: String(field('max-deleted-entry-id') ?? '0-0'),
      lastGenerated: String(field('last-generated-id') ?? '0-0'),
      entriesAdded: Number(field('entries-added') ?? 0),
      length: Number(field('length') ?? 0)
    }
  }
}

interface StreamInfo {
  maxDeleted: string
  lastGenerated: string
  /** Every entry ever added, trimmed ones included. */
  entriesAdded: number
  length: number
}

/** An event read back from the stream or the channel; undefined when another writer left junk. */
export function toMessage (id: string, draftJson: string | undefined): BusMessage | undefined {
  if (draftJson === undefined) return undefined
  return parseMessage(eventJson(id, draftJson))
}

export function parseMessage (json: string): BusMessage | undefined {
  try {
    const event: unknown = JSON.parse(json)
    return isGatewayEvent(event) ? { event, json } : undefined
  } catch {
    return undefined
  }
}
