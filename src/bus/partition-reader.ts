import type { Log } from '../logging.js'
import { roomRoute, userRoute } from '../partitions.js'
import { compareIds } from '../wire/event-id.js'
import { type BusMessage, BusUnavailableError } from './bus.js'
import type { partitionNames, RedisEventLog } from './redis-log.js'

/** Events read back per history request while refilling a gap. */
const FILL_PAGE = 500
/** Wait before retrying a refill that failed (Redis half back). */
const FILL_RETRY_MS = 250

/**
 * The subscription cannot be made or does not deliver: a sharded subscriber missing for the
 * channel's slot (ioredis can keep a stale set of them after a failover), or a fence that did
 * not come back. Waiting does not mend it; making the subscription again does.
 */
export class SubscriptionLostError extends BusUnavailableError {}

/** What a reader needs of the bus that owns it. */
export interface ReaderHost {
  readonly history: RedisEventLog
  readonly log: Log
  readonly closed: boolean
  /** Subscribes the channels on the current subscriber connection. */
  subscribe: (channels: string[]) => Promise<void>
  unsubscribe: (channel: string) => void
  /** Sends a canary through the partition's channel; resolves, once it is back, with the id it follows. */
  fence: (partition: string) => Promise<string | undefined>
  /** Hands an event on, in the partition's id order. */
  deliver: (message: BusMessage) => void
  /** The subscription is lost: make a new subscriber connection. */
  lost: () => void
}

/**
 * One partition as this instance reads it: whole (its every event, for admin streams and for
 * the partitions every stream reads), or only the events of the users with a socket here, each
 * on the user's own channel. Whatever the channels missed (before a subscription was confirmed,
 * or while it was down) is read back from the partition's stream, so every event the reader
 * wants is handed on once, in id order, from the position the reader began at. Live messages
 * wait while a gap is filled.
 */
export class PartitionReader {
  /** Set while no receiver is left: the reader is dropped when it fires. */
  linger: NodeJS.Timeout | undefined
  /** Receivers of the whole partition, and the subscription of its channel once there are. */
  private whole = 0
  private wholeJoined: Promise<void> | undefined
  /** Receivers per route (a user's, a room's events), and the subscription of its channel. */
  private readonly routes = new Map<string, { count: number, joined: Promise<void> }>()
  private lastId: string | undefined
  private filling: BusMessage[] | undefined = []
  /** A refill is running; `again` asks it to run once more for a reconnect that came meanwhile. */
  private resyncing = false
  private again = false
  /** The last refill failed and is being retried. */
  private failed = false
  /** Joins waiting for the refill under way to end. */
  private readonly settling: Array<() => void> = []
  /** Dropped by its bus: a refill retry still pending must not subscribe again. */
  private stopped = false

  constructor (readonly partition: string, private readonly names: ReturnType<typeof partitionNames>, private readonly host: ReaderHost) {}

  get receivers (): number {
    return this.whole + this.routes.size
  }

  /**
   * One more receiver, of the whole partition or of one route (a user's or a room's events).
   * Resolves once the receiver's events after the reader's position all reach the bus's
   * handler. A new route's channel is subscribed and a fence sent through the partition: once it
   * is back, every event up to the fence's id that the reader wanted has arrived, so the
   * position moves to the fence and the route's later events come on the new channel.
   */
  async join (route?: string): Promise<void> {
    if (route === undefined) {
      this.whole++
      this.wholeJoined ??= this.subscribeNew(this.names.channel)
      return await this.wholeJoined
    }
    const known = this.routes.get(route)
    if (known !== undefined) {
      known.count++
      return await known.joined
    }
    const entry = { count: 1, joined: Promise.resolve() }
    this.routes.set(route, entry)
    entry.joined = this.subscribeNew(this.names.routePrefix + route)
    await entry.joined
  }

  /** Subscribes a channel the reader did not want before; never rejects (a failure refills). */
  private async subscribeNew (channel: string): Promise<void> {
    if (this.lastId === undefined || !this.current || this.resyncing) return await this.resettled()
    try {
      await this.host.subscribe([channel])
      const fence = await this.host.fence(this.partition)
      if (this.current && fence !== undefined && compareIds(fence, this.lastId) > 0) this.lastId = fence
    } catch {
      await this.resettled()
    }
  }

  /** One receiver fewer; a route's channel is let go with the last of its sockets here. */
  leave (route?: string): void {
    if (route === undefined) {
      if (--this.whole > 0) return
      this.wholeJoined = undefined
      this.host.unsubscribe(this.names.channel)
      return
    }
    const entry = this.routes.get(route)
    if (entry === undefined || --entry.count > 0) return
    this.routes.delete(route)
    this.host.unsubscribe(this.names.routePrefix + route)
  }

  /** No socket here receives the partition any more: lets go of its canary channel for good. */
  stop (): void {
    this.stopped = true
    this.host.unsubscribe(this.names.canaryChannel)
  }

  /** Runs the refill again, with every channel the reader wants, and resolves when it is done. */
  private async resettled (): Promise<void> {
    const done = new Promise<void>((resolve) => { this.settling.push(resolve) })
    void this.resync()
    await done
  }

  /** The channels the reader wants now. */
  private channels (): string[] {
    const channels = [this.names.canaryChannel, ...[...this.routes.keys()].map((route) => this.names.routePrefix + route)]
    if (this.whole > 0) channels.push(this.names.channel)
    return channels
  }

  /** Whether the reader wants an event: a refill reads the partition's every event. */
  private wants (message: BusMessage): boolean {
    const { userId, groups } = message.event
    if (this.whole > 0 || (userId !== undefined && this.routes.has(userRoute(userId)))) return true
    return groups?.some((room) => this.routes.has(roomRoute(room))) ?? false
  }

  /** The newest id handed on, or the one the reader began after; undefined until known. */
  get position (): string | undefined {
    return this.lastId
  }

  /** Every event after the position is handed on, none waits behind a refill, none failed. */
  get current (): boolean {
    return this.filling === undefined && !this.failed
  }

  /** False while a refill is being retried after a failure. */
  get healthy (): boolean {
    return !this.failed
  }

  /** A message from the channel. */
  receive (message: BusMessage): void {
    if (this.filling !== undefined) this.filling.push(message)
    else this.deliver(message)
  }

  private deliver (message: BusMessage): void {
    // Refills overlap live messages; only what comes after the last delivered id is new.
    if (this.lastId !== undefined && compareIds(message.event.id, this.lastId) <= 0) return
    this.lastId = message.event.id
    this.host.deliver(message)
  }

  /**
   * Reads the events after the last delivered id back from the stream once the subscription is
   * confirmed: anything published before the confirmation is in the stream, anything after it
   * arrives live. On the first subscription the starting point is the newest id issued, read
   * before subscribing so nothing slips between the two.
   *
   * Live-only events published while the subscription was down are gone; those published since
   * must not be taken for delivered because the refill read past them while they were still on
   * their way. So a fence goes out first: once it is back, every event up to its id is either
   * in the stream or already here, and the two are woven together in id order; what follows
   * the fence comes live.
   */
  async resync (): Promise<void> {
    if (this.stopped) return
    this.filling ??= []
    if (this.resyncing) {
      this.again = true
      return
    }
    this.resyncing = true
    try {
      this.lastId ??= await this.host.history.lastId(this.partition)
      await this.host.subscribe(this.channels()).catch((err: Error) => { throw new SubscriptionLostError(err.message) })
      const fence = await this.host.fence(this.partition)
      await this.weave(fence)
      this.failed = false
      if (this.again) {
        this.again = false
        this.resyncing = false
        return await this.resync()
      }
      const waiting = this.filling
      this.filling = undefined
      for (const message of waiting) this.deliver(message)
      for (const resolve of this.settling.splice(0)) resolve()
    } catch (err) {
      if (this.host.closed || this.stopped) return
      this.failed = true
      this.host.log.warn({ err, partition: this.partition }, 'could not refill events from the history; retrying')
      if (err instanceof SubscriptionLostError) this.host.lost()
      setTimeout(() => { void this.resync() }, FILL_RETRY_MS).unref()
    } finally {
      this.resyncing = false
    }
  }

  /**
   * Hands on the stream's events up to the fence that the reader wants, with the live ones that
   * arrived meanwhile, in id order.
   */
  private async weave (fence: string | undefined): Promise<void> {
    const arrived = this.filling ?? []
    let woven = 0
    let cursor = this.lastId as string
    for (;;) {
      const { messages } = await this.host.history.after(cursor, FILL_PAGE)
      for (const message of messages) {
        if (fence !== undefined && compareIds(message.event.id, fence) > 0) return
        for (; woven < arrived.length && compareIds((arrived[woven] as BusMessage).event.id, message.event.id) < 0; woven++) this.deliver(arrived[woven] as BusMessage)
        if (this.wants(message)) this.deliver(message)
        cursor = message.event.id
      }
      if (messages.length < FILL_PAGE) return
    }
  }
}
