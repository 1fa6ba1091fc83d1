import type { EventDraft } from '../events.js'
import type { Retention } from '../history.js'
import type { Log } from '../logging.js'
import { type Interest, Partitioning } from '../partitions.js'
import { connectRedis, type RedisClient } from '../redis-connection.js'
import type { RedisTarget } from '../redis-target.js'
import type { Stream } from '../wire/streams.js'
import { type Bus, type BusHandler, BusUnavailableError, type Idempotency } from './bus.js'
import { type Durability, NO_REPLICAS } from './durability.js'
import { PartitionReader, type ReaderHost, SubscriptionLostError } from './partition-reader.js'
import { type PubSub, pubSubOf } from './pubsub.js'
import { parseMessage, RedisEventLog } from './redis-log.js'

/** Canaries share the events channels, so they prove the very subscriptions events use. */
const CANARY_PREFIX = 'eventgate-canary:'
/** How long a refill waits for its fence to come back on the subscription before it retries. */
const FENCE_TIMEOUT_MS = 5000
/**
 * How long a partition is still read after its last receiver left: a reconnect storm or a
 * user hopping between instances does not subscribe, refill and unsubscribe each time.
 */
const LINGER_MS = 30_000

/**
 * Events through Redis: published by a script into a partition's stream and onto its channel
 * (RedisEventLog); received on a second, subscribe-only connection, one PartitionReader per
 * partition this instance reads. A partition is read while a socket here may receive it (see
 * `read`), the broadcast partition always (the only one, with one partition).
 */
export class RedisBus implements Bus {
  readonly kind = 'redis'
  readonly history: RedisEventLog
  private subscriber: RedisClient
  /** A connection of the bus's own for publishes that WAIT for replicas (see RedisEventLog). */
  private readonly durablePublisher: RedisClient | undefined
  private readonly pubSub: PubSub
  private handler: BusHandler | undefined
  private readonly readers = new Map<string, PartitionReader>()
  /** Readers by their partition's hash tag, which every channel of the partition holds. */
  private readonly byTag = new Map<string, PartitionReader>()
  /** Read whether or not a socket here receives it: it carries user-less control events. */
  private readonly pinned: string
  private readonly canaries = new Map<string, () => void>()
  private canarySequence = 0
  private closed = false
  private readonly host: ReaderHost

  constructor (private readonly target: RedisTarget, private readonly publisher: RedisClient, private readonly log: Log, retention: Retention, private readonly serverId: string, durability: Durability = NO_REPLICAS, readonly partitioning = new Partitioning(1)) {
    this.durablePublisher = durability.replicas > 0 ? connectRedis(target, 'commands', log) : undefined
    this.history = new RedisEventLog(publisher, retention, durability, this.durablePublisher, partitioning)
    this.subscriber = connectRedis(target, 'subscriber', log)
    this.pubSub = pubSubOf(this.subscriber)
    this.pinned = partitioning.of({ type: 'system' })
    const bus = this
    this.host = {
      history: this.history,
      log,
      get closed () { return bus.closed },
      subscribe: async (channels) => { await this.subscriber[this.pubSub.subscribe](...channels) },
      unsubscribe: (channel) => {
        this.subscriber[this.pubSub.unsubscribe](channel).catch((err: unknown) => {
          this.log.warn({ err, channel }, 'could not unsubscribe a channel no socket here receives')
        })
      },
      fence: async (partition) => await this.fence(partition),
      deliver: (message) => { this.handler?.(message) },
      lost: () => { this.replaceSubscriber() }
    }
  }

  positionOf (partition: string): string | undefined {
    return this.readers.get(partition)?.position
  }

  get connected (): boolean {
    if (this.closed || !this.publishing || this.subscriber.status !== 'ready') return false
    for (const reader of this.readers.values()) if (!reader.healthy) return false
    return this.readers.get(this.pinned)?.current === true
  }

  private get publishing (): boolean {
    return this.publisher.status === 'ready' && (this.durablePublisher === undefined || this.durablePublisher.status === 'ready')
  }

  async subscribe (handler: BusHandler): Promise<void> {
    this.handler = handler
    this.listen(this.subscriber)
    void this.reader(this.pinned).join()
  }

  async read (stream: Stream, userId: string): Promise<void> {
    await this.readInterests(this.partitioning.interests(stream, userId))
  }

  unread (stream: Stream, userId: string): void {
    this.unreadInterests(this.partitioning.interests(stream, userId))
  }

  async readRoom (room: string): Promise<void> {
    await this.readInterests([this.partitioning.roomInterest(room)])
  }

  unreadRoom (room: string): void {
    this.unreadInterests([this.partitioning.roomInterest(room)])
  }

  private async readInterests (interests: readonly Interest[]): Promise<void> {
    await Promise.all(interests.map(async ([partition, route]) => {
      const reader = this.reader(partition)
      clearTimeout(reader.linger)
      reader.linger = undefined
      await reader.join(route)
    }))
  }

  private unreadInterests (interests: readonly Interest[]): void {
    for (const [partition, route] of interests) {
      const reader = this.readers.get(partition)
      if (reader === undefined) continue
      reader.leave(route)
      if (reader.receivers > 0) continue
      reader.linger = setTimeout(() => { this.drop(reader) }, LINGER_MS)
      reader.linger.unref()
    }
  }

  /** The partition's reader, made when there is none. */
  private reader (partition: string): PartitionReader {
    let reader = this.readers.get(partition)
    if (reader === undefined) {
      reader = new PartitionReader(partition, this.history.namesOf(partition), this.host)
      this.readers.set(partition, reader)
      this.byTag.set(this.partitioning.tag(partition), reader)
    }
    return reader
  }

  /** A partition no socket here receives any more stops being read: its canaries too. */
  private drop (reader: PartitionReader): void {
    if (reader.receivers > 0 || this.closed) return
    this.readers.delete(reader.partition)
    this.byTag.delete(this.partitioning.tag(reader.partition))
    reader.stop()
  }

  private listen (subscriber: RedisClient): void {
    subscriber.on(this.pubSub.message, (channel: string, text: string) => {
      // disconnect() only half-closes the socket: Redis can still send what it published
      // before it read the FIN, and a closed bus (or a replaced subscriber) must not hand that on.
      if (this.closed || subscriber !== this.subscriber) return
      if (text.startsWith(CANARY_PREFIX)) {
        this.canaries.get(text)?.()
        return
      }
      const reader = this.byTag.get(channel.slice(channel.indexOf('{') + 1, channel.indexOf('}')))
      if (reader === undefined) return
      const message = parseMessage(text)
      if (message === undefined) this.log.warn({ channel }, 'dropped a malformed message from the bus')
      else reader.receive(message)
    })
    subscriber.on('ready', () => { if (subscriber === this.subscriber) this.resyncAll() })
    // A cluster makes its per-master sharded subscriptions again on its own when a node's
    // connection drops or the slots move, without a 'ready': anything meanwhile is refilled too.
    subscriber.on('subscribersReady', () => { if (subscriber === this.subscriber) this.resyncAll() })
  }

  private resyncAll (): void {
    for (const reader of this.readers.values()) void reader.resync()
  }

  async publish (drafts: readonly EventDraft[], idempotency?: Idempotency): Promise<string[]> {
    return await this.send(drafts, idempotency, true)
  }

  async publishLive (draft: EventDraft): Promise<string> {
    return (await this.send([draft], undefined, false))[0] as string
  }

  private async send (drafts: readonly EventDraft[], idempotency: Idempotency | undefined, keep: boolean): Promise<string[]> {
    // The publisher connection is shared and outlives this bus, so being closed is checked apart.
    if (this.closed) throw new BusUnavailableError('the bus is closed')
    if (!this.publishing) throw new BusUnavailableError()
    try {
      return await this.history.publish(drafts, idempotency, keep)
    } catch (err) {
      throw new BusUnavailableError((err as Error).message)
    }
  }

  /**
   * Sends a canary through every partition read here, at once, and resolves with the slowest
   * round trip. Sent by the fence script, which reads the clock, not by a bare publish: a
   * cluster that lost a master with no replica still passes sharded messages, while it refuses
   * every command on a key (CLUSTERDOWN), the publish script's included.
   */
  async probe (timeoutMs: number): Promise<number> {
    if (!this.connected) throw new BusUnavailableError()
    const started = performance.now()
    try {
      await Promise.all([...this.readers.keys()].map(async (partition) => { await this.canary(partition, 'probe', timeoutMs) }))
    } catch (err) {
      // A lost canary means a subscription that no longer delivers: make it again.
      this.resubscribe()
      throw err
    }
    return performance.now() - started
  }

  /** Sends a canary through a partition's channel; resolves, once it is back, with the id it follows. */
  private async fence (partition: string): Promise<string | undefined> {
    return await this.canary(partition, 'fence', FENCE_TIMEOUT_MS)
  }

  private async canary (partition: string, kind: string, timeoutMs: number): Promise<string | undefined> {
    const canary = `${CANARY_PREFIX}${this.serverId}:${kind}:${++this.canarySequence}`
    let timer: NodeJS.Timeout | undefined
    const back = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new SubscriptionLostError(`the ${kind} canary of ${partition} did not come back`)), timeoutMs)
      this.canaries.set(canary, resolve)
    })
    try {
      const [last] = await Promise.all([this.history.fence(partition, canary), back])
      return last
    } finally {
      clearTimeout(timer)
      this.canaries.delete(canary)
    }
  }

  /** Drops the subscription and makes it again, refilling whatever it missed. */
  private resubscribe (): void {
    if (!this.closed) this.subscriber.disconnect(true)
  }

  /**
   * Replaces the subscriber connection with a new one. After a failover ioredis can keep a
   * cluster's set of sharded subscribers without one for the new master, through reconnects
   * too (a set being rebuilt waits on a connection to the dead node): only a new client mends it.
   */
  private replaceSubscriber (): void {
    if (this.closed) return
    this.subscriber.disconnect()
    this.subscriber = connectRedis(this.target, 'subscriber', this.log)
    this.listen(this.subscriber)
  }

  async close (): Promise<void> {
    this.closed = true
    for (const reader of this.readers.values()) clearTimeout(reader.linger)
    this.subscriber.disconnect()
    this.durablePublisher?.disconnect()
  }
}
