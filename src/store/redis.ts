import type { Result } from 'ioredis'
import type { RedisClient } from '../redis-connection.js'
import type { RecordedRevocation, Store, UpgradeAdmission } from './store.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    eventgateIncrement: (key: string, ttlMs: number) => Result<number, Context>
    eventgateAcquireSlot: (key: string, member: string, limit: number, now: number, ttlMs: number) => Result<number, Context>
    eventgateHoldSlot: (key: string, member: string, expiry: number, ttlMs: number) => Result<number, Context>
    eventgateAdmitUpgrade: (countKey: string, slotKey: string, windowMs: number, max: number, member: string, limit: number, now: number, ttlMs: number) => Result<[number, number, number], Context>
    eventgateRecordRevocation: (key: string, rule: string, revokedAt: number, oldest: number, ttlMs: number, channel: string) => Result<number, Context>
  }
}

const PREFIX = 'eventgate:'

/** The sorted set of live revocation rules, scored by `revokedAt`. */
const REVOCATIONS_KEY = `${PREFIX}revocations`

/**
 * Where each recorded revocation is announced, as `<revokedAt> <rule>`: every instance on one
 * Redis listens (src/revocation-feed.ts), so its view of the revocations stays whole.
 */
export const REVOCATIONS_CHANNEL = `${PREFIX}revocations`

/** INCR that starts the key's window on the first hit only (a fixed window, not a sliding one). */
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`

/**
 * A slot set is a sorted set of members scored by their expiry. Expired members are dropped,
 * then the member is added if it already holds a slot or one is free. One script, so two
 * instances cannot both take the last slot.
 */
const ACQUIRE_SLOT = `
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`

/**
 * INCREMENT and, unless past the budget, ACQUIRE_SLOT: an upgrade's count and slot in one round
 * trip. Answers the count, the window's milliseconds left, and 1 when a slot was taken.
 */
const ADMIT_UPGRADE = `
local count = redis.call('INCR', KEYS[1])
local reset = tonumber(ARGV[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else reset = redis.call('PTTL', KEYS[1]) end
if count > tonumber(ARGV[2]) then return {count, reset, 0} end
local now = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if not redis.call('ZSCORE', KEYS[2], ARGV[3]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return {count, reset, 0}
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {count, reset, 1}`

/** Keeps a member's slot until `expiry`, re-adding it if lost, and the set alive as long. */
const HOLD_SLOT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return redis.call('PEXPIRE', KEYS[1], ARGV[3])`

/**
 * Adds the rule (a later `revokedAt` wins), forgets those older than the TTL and announces the
 * rule, in one script: an instance that loads the set after subscribing to the channel misses
 * no revocation, as each is either in the set it reads or announced after it subscribed.
 */
const RECORD_REVOCATION = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('PUBLISH', ARGV[5], ARGV[2] .. ' ' .. ARGV[1])`

export class RedisStore implements Store {
  constructor (private readonly redis: RedisClient) {
    // Sent by SHA (EVALSHA, reloaded on NOSCRIPT): every upgrade acquires a slot and every failed
    // authentication increments, and EVAL would send the script's text each time to be hashed again.
    redis.defineCommand('eventgateIncrement', { numberOfKeys: 1, lua: INCREMENT })
    redis.defineCommand('eventgateAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT })
    redis.defineCommand('eventgateHoldSlot', { numberOfKeys: 1, lua: HOLD_SLOT })
    redis.defineCommand('eventgateAdmitUpgrade', { numberOfKeys: 2, lua: ADMIT_UPGRADE })
    redis.defineCommand('eventgateRecordRevocation', { numberOfKeys: 1, lua: RECORD_REVOCATION })
  }

  async increment (key: string, ttlMs: number): Promise<number> {
    return Number(await this.redis.eventgateIncrement(PREFIX + key, ttlMs))
  }

  async put (key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(PREFIX + key, value, 'PX', ttlMs)
  }

  async claim (key: string, ttlMs: number): Promise<boolean> {
    return await this.redis.set(PREFIX + key, '1', 'PX', ttlMs, 'NX') === 'OK'
  }

  async get (key: string): Promise<string | null> {
    return await this.redis.get(PREFIX + key)
  }

  async take (key: string): Promise<string | null> {
    return await this.redis.getdel(PREFIX + key)
  }

  async ttl (key: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(PREFIX + key))
  }

  async acquireSlot (key: string, member: string, limit: number, ttlMs: number): Promise<boolean> {
    return Number(await this.redis.eventgateAcquireSlot(PREFIX + key, member, limit, Date.now(), ttlMs)) === 1
  }

  async refreshSlots (slots: ReadonlyArray<{ key: string, member: string }>, ttlMs: number): Promise<void> {
    if (slots.length === 0) return
    const expiry = Date.now() + ttlMs
    // One script per user's set, all sent at once: the sets live on whichever cluster node owns
    // each user's slot, where a pipeline (one node) could not reach them all.
    await Promise.all(slots.map(async ({ key, member }) => await this.redis.eventgateHoldSlot(PREFIX + key, member, expiry, ttlMs)))
  }

  async releaseSlot (key: string, member: string): Promise<void> {
    await this.redis.zrem(PREFIX + key, member)
  }

  async admitUpgrade (count: { key: string, windowMs: number, max: number }, slot: { key: string, member: string, limit: number, ttlMs: number }): Promise<UpgradeAdmission> {
    // On a cluster the two keys hash to different slots, which no one script may touch: two calls.
    if (this.redis.isCluster) {
      const counted = await this.increment(count.key, count.windowMs)
      if (counted > count.max) return { count: counted, resetInMs: await this.ttl(count.key), slot: false }
      return { count: counted, resetInMs: count.windowMs, slot: await this.acquireSlot(slot.key, slot.member, slot.limit, slot.ttlMs) }
    }
    const [counted, resetInMs, taken] = await this.redis.eventgateAdmitUpgrade(PREFIX + count.key, PREFIX + slot.key, count.windowMs, count.max, slot.member, slot.limit, Date.now(), slot.ttlMs)
    return { count: Number(counted), resetInMs: Math.max(0, Number(resetInMs)), slot: Number(taken) === 1 }
  }

  async recordRevocation (rule: string, revokedAt: number, ttlMs: number): Promise<void> {
    await this.redis.eventgateRecordRevocation(REVOCATIONS_KEY, rule, revokedAt, Date.now() - ttlMs, ttlMs, REVOCATIONS_CHANNEL)
  }

  async revocationList (ttlMs: number, limit: number): Promise<RecordedRevocation[]> {
    const flat = await this.redis.zrangebyscore(REVOCATIONS_KEY, `(${Date.now() - ttlMs}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
    const list: RecordedRevocation[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) list.push({ rule: flat[i] as string, revokedAt: Number(flat[i + 1]) })
    return list
  }

  async close (): Promise<void> {}
}
