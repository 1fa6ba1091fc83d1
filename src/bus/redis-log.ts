import { Cluster, type Result } from 'ioredis'
import { type EventDraft, eventJson, isGatewayEvent } from '../events.js'
import { type History, type HistoryPage, lostAfter, type Retention } from '../history.js'
import type { BusMessage, Idempotency } from './bus.js'
import { acknowledged, type Durability, NO_REPLICAS } from './durability.js'
import type { RedisClient } from '../redis-connection.js'
import { publishScript } from './publish-script.js'
import { Partitioning, roomRoute, userRoute } from '../partitions.js'
import { compareIds, localId, ONLY_PARTITION, partitionOf } from '../wire/event-id.js'
import { pubSubOf } from './pubsub.js'
import { GroupCommit } from './group-commit.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** The publish script: the number of keys, the keys, then the arguments; per request its ids' JSON. */
    eventgatePublish: (...keysThenArgs: Array<string | number>) => Result<string[], Context>
    /** The fence script: the clock key, the channel, the canary. */
    eventgateFence: (keys: 1, clock: string, channel: string, canary: string) => Result<string | null, Context>
  }
}

/**
 * The names of one partition of the event log, by its hash tag. Its stream, clock, idempotency
 * keys and channel share one cluster slot, as one script needs; the tag comes first, so no
 * publisher's idempotency key can carry a tag of its own into the name.
 */
export function partitionNames (tag: string) {
  const prefix = `eventgate:{${tag}}:`
  return {
    history: `${prefix}history`,
    /** The id clock every instance numbers events with: `last` and `origin` (see the publish script). */
    clock: `${prefix}clock`,
    /** Every event of the partition, for the instances that read it whole. */
    channel: `${prefix}events`,
    /**
     * Followed by a route (`u:<userId>`, `r:<room>`): the events of one user or room of the
     * partition, for the instances that read only their sockets' (see PartitionReader).
     */
    routePrefix: prefix,
    /** The fence and health canaries, which every reader of the partition receives. */
    canaryChannel: `${prefix}canary`,
    idempotencyPrefix: `${prefix}idempotency:`
  }
}
type PartitionNames = ReturnType<typeof partitionNames>

/** The names of a gateway that runs one partition. */
const ONLY = partitionNames(ONLY_PARTITION)
export const EVENTS_CHANNEL = ONLY.channel
export const HISTORY_KEY = ONLY.history
export const CLOCK_KEY = ONLY.clock

/** The clock's newest id, and a canary on the channel, in one step: nothing can come between. */
/**
 * Drafts one script call carries at most: a script blocks Redis while it runs, and a burst of
 * full batches (100 drafts each) would otherwise hold every other command back until it is done.
 */
const MAX_DRAFTS_PER_CALL = 500
/**
 * A request with this many drafts goes in a call of its own, at once: grouping it with others
 * saves little, and measured with batches of 100 it cost throughput (see GroupCommit).
 */
const SOLO_DRAFTS = 50

/** One request's part of a partition's script call: its keys and its arguments (see the script). */
interface Part {
  keys: string[]
  args: Array<string | number>
}

const FENCE_SCRIPT = `
local last = redis.call('HGET', KEYS[1], 'last')
redis.call('PUBLISH_COMMAND', ARGV[1], ARGV[2])
return last`

/**
 * The event log in Redis: per partition, a stream for history and an id clock, written and
 * published by one script. Live-only events take an id from the clock and go out on the
 * channel, never into the stream. Ids leave it as the wire carries them (see Partitioning).
 */
export class RedisEventLog implements History {
  private readonly names = new Map<string, PartitionNames>()
  /** Per partition, and apart for kept and live-only events (the script's ARGV[4]). */
  private readonly commits = new GroupCommit<Part, string>(async (group, parts) => await this.write(group, parts), MAX_DRAFTS_PER_CALL, SOLO_DRAFTS)

  /**
   * `waiting` carries the publishes that wait for replicas (`redis` when none do): WAIT blocks its
   * connection, and the canary, limits and revocations must not queue behind it.
   */
  constructor (private readonly redis: RedisClient, private readonly retention: Retention, private readonly durability: Durability = NO_REPLICAS, private readonly waiting: RedisClient = redis, readonly partitioning = new Partitioning(1)) {
    for (const partition of partitioning.all) this.names.set(partition, partitionNames(partitioning.tag(partition)))
    const { publish } = pubSubOf(redis)
    // Sent by SHA (EVALSHA, reloaded on NOSCRIPT) rather than its whole text with every publish.
    for (const client of new Set([redis, waiting])) client.defineCommand('eventgatePublish', { lua: publishScript(publish) })
    redis.defineCommand('eventgateFence', { lua: FENCE_SCRIPT.replace('PUBLISH_COMMAND', publish) })
  }

  /** The names of a partition's keys and channel. */
  namesOf (partition: string): PartitionNames {
    const names = this.names.get(partition)
    if (names === undefined) throw new RangeError(`no partition ${partition}`)
    return names
  }

  /**
   * Publishes `canary` on a partition's channel and resolves with the newest id it issued before
   * (undefined before the first): once the canary arrives, every event of the partition up to
   * that id has arrived too, or was never published on this subscription.
   */
  async fence (partition: string, canary: string): Promise<string | undefined> {
    const names = this.namesOf(partition)
    const last = await this.redis.eventgateFence(1, names.clock, names.canaryChannel, canary)
    return last === null ? undefined : this.partitioning.wireId(partition, last)
  }

  /**
   * Publishes the drafts, each to its partition; `keep` false makes them live-only. With replicas
   * to wait for, kept events are answered only once that many replicas hold them (see
   * durability.ts). The drafts of one partition are published all or none; a batch that spans
   * partitions is one script per partition, run side by side, and a failure in one leaves the
   * others published: a retry with the same idempotency key publishes only what is missing.
   */
  async publish (drafts: readonly EventDraft[], idempotency?: Idempotency, keep = true): Promise<string[]> {
    const groups = new Map<string, number[]>()
    // An event for targets in several partitions is written to each: its id is its first copy's.
    const primaries = new Array<string>(drafts.length)
    drafts.forEach((draft, i) => {
      const placements = this.partitioning.placements(draft)
      primaries[i] = placements[0] as string
      for (const partition of placements) {
        const group = groups.get(partition)
        if (group === undefined) groups.set(partition, [i])
        else group.push(i)
      }
    })
    // One partition: the script's answer as is; for a request key it used before, that is the
    // ids it gave then, whatever this body holds.
    if (groups.size === 1) {
      const [partition] = groups.keys()
      if (partition !== undefined) return await this.publishTo(partition, drafts, idempotency, keep)
    }
    const ids = new Array<string>(drafts.length)
    await Promise.all([...groups].map(async ([partition, indexes]) => {
      const published = await this.publishTo(partition, indexes.map((i) => drafts[i] as EventDraft), idempotency && {
        ttlMs: idempotency.ttlMs,
        requestKey: idempotency.requestKey,
        eventKeys: idempotency.eventKeys && indexes.map((i) => idempotency.eventKeys?.[i])
      }, keep)
      indexes.forEach((index, j) => { if (primaries[index] === partition) ids[index] = published[j] as string })
    }))
    return ids
  }

  private async publishTo (partition: string, drafts: readonly EventDraft[], idempotency: Idempotency | undefined, keep: boolean): Promise<string[]> {
    const names = this.namesOf(partition)
    const key = (k: string | undefined): string => k === undefined ? names.history : names.idempotencyPrefix + k
    const part: Part = {
      keys: [key(idempotency?.requestKey), ...drafts.map((_, i) => key(idempotency?.eventKeys?.[i]))],
      args: [drafts.length, idempotency?.ttlMs ?? 1, ...drafts.flatMap((d) => {
        const channels = this.routesIn(partition, d).map((route) => names.routePrefix + route)
        return [channels.length, ...channels, JSON.stringify(d)]
      })]
    }
    const result = await this.commits.submit(`${keep ? '1' : '0'}${partition}`, part, drafts.length)
    return (JSON.parse(result) as string[]).map((id) => this.partitioning.wireId(partition, id))
  }

  /** One script call for the parts of a group (`keep` flag, then partition), in the order given. */
  private async write (group: string, parts: readonly Part[]): Promise<string[]> {
    const keep = group.startsWith('1')
    const partition = group.slice(1)
    const names = this.namesOf(partition)
    const keys = [names.history, names.clock, ...parts.flatMap((p) => p.keys)]
    const args = [
      keys.length, ...keys,
      names.channel, this.retention.maxEvents, this.retention.maxAgeMs, keep ? '1' : '0',
      this.partitioning.wireId(partition, ''),
      ...parts.flatMap((p) => p.args)
    ]
    const results = keep && this.durability.replicas > 0 ? await this.publishReplicated(args) : await this.redis.eventgatePublish(...args)
    return (results as unknown[]).map(String)
  }

  /**
   * The routes of a partition a draft is published on besides its whole channel: its user's and
   * its rooms' that live there. One partition is read whole by every instance: none has a reader.
   */
  private routesIn (partition: string, draft: EventDraft): string[] {
    const { partitioning } = this
    if (partitioning.single) return []
    const routes = draft.userId !== undefined && partitioning.ofUser(draft.userId) === partition ? [userRoute(draft.userId)] : []
    for (const room of draft.groups ?? []) if (partitioning.ofRoom(room) === partition) routes.push(roomRoute(room))
    return routes
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

  /** The events after `since` in the partition it names. */
  async after (since: string, limit: number): Promise<HistoryPage> {
    const partition = partitionOf(since)
    const names = this.namesOf(partition)
    const [entries, info, clock] = await Promise.all([
      this.redis.xrange(names.history, `(${localId(since)}`, '+', 'COUNT', limit),
      this.streamInfo(names),
      this.clock(names)
    ])
    const messages = entries.flatMap(([id, fields]) => {
      const message = toMessage(this.partitioning.wireId(partition, id), fields[1])
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

  /**
   * The newest id a partition ever issued ('0-0' for none), kept or live-only: where a new
   * subscriber starts.
   */
  async lastId (partition: string): Promise<string> {
    const names = this.namesOf(partition)
    const [info, clock] = await Promise.all([this.streamInfo(names), this.clock(names)])
    return this.partitioning.wireId(partition, newer(clock.last, info.lastGenerated) ?? '0-0')
  }

  private async clock (names: PartitionNames): Promise<{ last: string | undefined, origin: string | undefined }> {
    const [last, origin] = await this.redis.hmget(names.clock, 'last', 'origin')
    return { last: last ?? undefined, origin: origin ?? undefined }
  }

  private async streamInfo (names: PartitionNames): Promise<StreamInfo> {
    let info: unknown[]
    try {
      info = await this.redis.xinfo('STREAM', names.history) as unknown[]
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
