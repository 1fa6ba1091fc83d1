import { Cluster, type Result } from 'ioredis'
import { compareIds } from '../event-id.js'
import { type EventDraft, eventJson, isGatewayEvent } from '../events.js'
import { type History, type HistoryPage, lostAfter, type Retention } from '../history.js'
import type { BusMessage, Idempotency } from './bus.js'
import { acknowledged, type Durability, NO_REPLICAS } from './durability.js'
import type { RedisClient } from '../redis-connection.js'
import { publishScript } from './publish-script.js'
import { pubSubOf } from './pubsub.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** The publish script: the number of keys, the keys, then the arguments. */
    eventgatePublish: (...keysThenArgs: Array<string | number>) => Result<string, Context>
    /** The fence script: the clock key, the channel, the canary. */
    eventgateFence: (keys: 1, clock: string, channel: string, canary: string) => Result<string | null, Context>
  }
}

/**
 * The names of one partition of the event log. Each carries the partition's hash tag, so its
 * stream, clock, idempotency keys and channel share one cluster slot, as one script needs; the
 * tag comes first, so no publisher's idempotency key can carry a tag of its own into the name.
 * There is one partition, `{p0}`, on one Redis and on a cluster alike.
 */
export function partitionNames (partition: number) {
  const prefix = `eventgate:{p${partition}}:`
  return {
    history: `${prefix}history`,
    /** The id clock every instance numbers events with: `last` and `origin` (see the publish script). */
    clock: `${prefix}clock`,
    channel: `${prefix}events`,
    idempotencyPrefix: `${prefix}idempotency:`
  }
}

const NAMES = partitionNames(0)
export const EVENTS_CHANNEL = NAMES.channel
export const HISTORY_KEY = NAMES.history
export const CLOCK_KEY = NAMES.clock
const IDEMPOTENCY_PREFIX = NAMES.idempotencyPrefix

/** The clock's newest id, and a canary on the channel, in one step: nothing can come between. */
const FENCE_SCRIPT = `
local last = redis.call('HGET', KEYS[1], 'last')
redis.call('PUBLISH_COMMAND', ARGV[1], ARGV[2])
return last`

/**
 * The event log in Redis: a stream for history and an id clock, written and published by one
 * script. Live-only events take an id from the clock and go out on the channel, never into the stream.
 */
export class RedisEventLog implements History {
  /**
   * `waiting` carries the publishes that wait for replicas (`redis` when none do): WAIT blocks its
   * connection, and the canary, limits and revocations must not queue behind it.
   */
  constructor (private readonly redis: RedisClient, private readonly retention: Retention, private readonly durability: Durability = NO_REPLICAS, private readonly waiting: RedisClient = redis) {
    const { publish } = pubSubOf(redis)
    // Sent by SHA (EVALSHA, reloaded on NOSCRIPT) rather than its whole text with every publish.
    for (const client of new Set([redis, waiting])) client.defineCommand('eventgatePublish', { lua: publishScript(publish) })
    redis.defineCommand('eventgateFence', { lua: FENCE_SCRIPT.replace('PUBLISH_COMMAND', publish) })
  }

  /**
   * Publishes `canary` on the channel and resolves with the newest id issued before it
   * (undefined before the first): once the canary arrives, every event up to that id has
   * arrived too, or was never published on this subscription.
   */
  async fence (canary: string): Promise<string | undefined> {
    return await this.redis.eventgateFence(1, CLOCK_KEY, EVENTS_CHANNEL, canary) ?? undefined
  }

  /**
   * Publishes the drafts; `keep` false makes them live-only. With replicas to wait for, kept
   * events are answered only once that many replicas hold them (see durability.ts).
   */
  async publish (drafts: readonly EventDraft[], idempotency?: Idempotency, keep = true): Promise<string[]> {
    const key = (k: string | undefined): string => k === undefined ? HISTORY_KEY : IDEMPOTENCY_PREFIX + k
    const keys = [HISTORY_KEY, CLOCK_KEY, key(idempotency?.requestKey), ...drafts.map((_, i) => key(idempotency?.eventKeys?.[i]))]
    const args = [
      keys.length, ...keys,
      EVENTS_CHANNEL, this.retention.maxEvents, this.retention.maxAgeMs, idempotency?.ttlMs ?? 1, keep ? '1' : '0',
      ...drafts.map((d) => JSON.stringify(d))
    ]
    const result = keep && this.durability.replicas > 0 ? await this.publishReplicated(args) : await this.redis.eventgatePublish(...args)
    return JSON.parse(String(result)) as string[]
  }

  /**
   * WAIT is refused inside a script, and a keyless command on a cluster goes to any node. Sent in
   * one pipeline behind the script, it runs right after it on the same connection to the same
   * node: ioredis sends a pipeline whole to the master of its keys' slot.
   */
  private async publishReplicated (args: Array<string | number>): Promise<unknown> {
    const { replicas, timeoutMs } = this.durability
    try {
      return acknowledged(await this.waiting.pipeline().eventgatePublish(...args).call('WAIT', replicas, timeoutMs).exec(), this.durability)
    } catch (err) {
      // ioredis follows a MOVED for a lone command, not for a pipeline holding a write: the
      // refusal reaches the publisher (nothing ran, a retry is safe) and the slots are read again.
      if (this.waiting instanceof Cluster && /^MOVED /.test((err as Error).message)) this.waiting.refreshSlotsCache()
      throw err
    }
  }

  async after (since: string, limit: number): Promise<HistoryPage> {
    const [entries, info, clock] = await Promise.all([
      this.redis.xrange(HISTORY_KEY, `(${since}`, '+', 'COUNT', limit),
      this.streamInfo(),
      this.clock()
    ])
    const messages = entries.flatMap(([id, fields]) => {
      const message = toMessage(id, fields[1])
      return message === undefined ? [] : [message]
    })
    // Trimming by MAXLEN or MINID does not advance max-deleted-entry-id on every Redis version
    // (7.0 does not), so the newest trimmed id is unknown: an id before the oldest entry counts
    // as lost once anything was trimmed. An id before the clock's origin comes from a history
    // Redis lost (restarted without persistence).
    const truncated = lostAfter(since, {
      origin: clock.origin ?? info.oldest,
      newest: newer(clock.last, info.lastGenerated),
      oldest: info.oldest,
      trimmed: info.entriesAdded > info.length
    }) || compareIds(since, info.maxDeleted) < 0
    return { messages, truncated }
  }

  /** The newest id ever issued ('0-0' for none), kept or live-only: where a new subscriber starts. */
  async lastId (): Promise<string> {
    const [info, clock] = await Promise.all([this.streamInfo(), this.clock()])
    return newer(clock.last, info.lastGenerated) ?? '0-0'
  }

  private async clock (): Promise<{ last: string | undefined, origin: string | undefined }> {
    const [last, origin] = await this.redis.hmget(CLOCK_KEY, 'last', 'origin')
    return { last: last ?? undefined, origin: origin ?? undefined }
  }

  private async streamInfo (): Promise<StreamInfo> {
    let info: unknown[]
    try {
      info = await this.redis.xinfo('STREAM', HISTORY_KEY) as unknown[]
    } catch (err) {
      if (/no such key/i.test((err as Error).message)) return { maxDeleted: '0-0', lastGenerated: '0-0', entriesAdded: 0, length: 0, oldest: undefined }
      throw err
    }
    const field = (name: string): unknown => info[info.indexOf(name) + 1]
    const first = field('first-entry')
    return {
      oldest: Array.isArray(first) ? String(first[0]) : undefined,
      maxDeleted: String(field('max-deleted-entry-id') ?? '0-0'),
      lastGenerated: String(field('last-generated-id') ?? '0-0'),
      entriesAdded: Number(field('entries-added') ?? 0),
      length: Number(field('length') ?? 0)
    }
  }
}

interface StreamInfo {
  /** The oldest entry's id. */
  oldest: string | undefined
  maxDeleted: string
  lastGenerated: string
  /** Every entry ever added, trimmed ones included. */
  entriesAdded: number
  length: number
}

/** The later of two ids; undefined for none ('0-0' is none). */
function newer (a: string | undefined, b: string): string | undefined {
  const later = a === undefined || compareIds(b, a) > 0 ? b : a
  return later === '0-0' ? undefined : later
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
