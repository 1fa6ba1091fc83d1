import { compareIds } from '../event-id.js'
import type { EventDraft } from '../events.js'
import type { Retention } from '../history.js'
import type { Log } from '../logging.js'
import { connectRedis, type RedisClient } from '../redis-connection.js'
import type { RedisTarget } from '../redis-target.js'
import { type Bus, type BusHandler, type BusMessage, BusUnavailableError, type Idempotency } from './bus.js'
import { type PubSub, pubSubOf } from './pubsub.js'
import { type Durability, NO_REPLICAS } from './durability.js'
import { EVENTS_CHANNEL, parseMessage, RedisEventLog } from './redis-log.js'

/** Canaries share the events channel, so they prove the very subscription events use. */
const CANARY_PREFIX = 'eventgate-canary:'
/** Events read back per history request while refilling a gap. */
const FILL_PAGE = 500
/** Wait before retrying a refill that failed (Redis half back). */
const FILL_RETRY_MS = 250
/** How long a refill waits for its fence to come back on the subscription before it retries. */
const FENCE_TIMEOUT_MS = 5000

/**
 * The subscription cannot be made or does not deliver: a sharded subscriber missing for the
 * channel's slot (ioredis can keep a stale set of them after a failover), or a fence that did
 * not come back. Waiting does not mend it; making the subscription again does.
 */
class SubscriptionLostError extends BusUnavailableError {}

/**
 * Events through Redis: published by a script into a stream and onto a channel (RedisEventLog);
 * received on a second, subscribe-only connection. Whenever that subscription is (re)made, the
 * events published meanwhile are read back from the stream, so the handler sees every event
 * once, in id order, across Redis outages. Live messages wait while the gap is filled.
 */
export class RedisBus implements Bus {
  readonly kind = 'redis'
  readonly history: RedisEventLog
  private subscriber: RedisClient
  /** A connection of the bus's own for publishes that WAIT for replicas (see RedisEventLog). */
  private readonly durablePublisher: RedisClient | undefined
  private readonly pubSub: PubSub
  private handler: BusHandler | undefined
  private lastId: string | undefined
  private filling: BusMessage[] | undefined = []
  /** A refill is running; `again` asks it to run once more for a reconnect that came meanwhile. */
  private resyncing = false
  private again = false
  private readonly canaries = new Map<string, () => void>()
  private canarySequence = 0
  private closed = false

  constructor (private readonly target: RedisTarget, private readonly publisher: RedisClient, private readonly log: Log, retention: Retention, private readonly serverId: string, durability: Durability = NO_REPLICAS) {
    this.durablePublisher = durability.replicas > 0 ? connectRedis(target, 'commands', log) : undefined
    this.history = new RedisEventLog(publisher, retention, durability, this.durablePublisher)
    this.subscriber = connectRedis(target, 'subscriber', log)
    this.pubSub = pubSubOf(this.subscriber)
  }

  get position (): string | undefined {
    return this.lastId
  }

  get connected (): boolean {
    return !this.closed && this.publishing && this.subscriber.status === 'ready' && this.filling === undefined
  }

  private get publishing (): boolean {
    return this.publisher.status === 'ready' && (this.durablePublisher === undefined || this.durablePublisher.status === 'ready')
  }

  async subscribe (handler: BusHandler): Promise<void> {
    this.handler = handler
    this.listen(this.subscriber)
    if (this.subscriber.status === 'ready') void this.resync()
  }

  private listen (subscriber: RedisClient): void {
    subscriber.on(this.pubSub.message, (channel: string, text: string) => {
      // disconnect() only half-closes the socket: Redis can still send what it published
      // before it read the FIN, and a closed bus (or a replaced subscriber) must not hand that on.
      if (this.closed || subscriber !== this.subscriber || channel !== EVENTS_CHANNEL) return
      if (text.startsWith(CANARY_PREFIX)) {
        this.canaries.get(text)?.()
        return
      }
      const message = parseMessage(text)
      if (message === undefined) this.log.warn({ channel }, 'dropped a malformed message from the bus')
      else if (this.filling !== undefined) this.filling.push(message)
      else this.deliver(message)
    })
    subscriber.on('ready', () => { if (subscriber === this.subscriber) void this.resync() })
    // A cluster makes its per-master sharded subscriptions again on its own when a node's
    // connection drops or the slots move, without a 'ready': anything meanwhile is refilled too.
    subscriber.on('subscribersReady', () => { if (subscriber === this.subscriber) void this.resync() })
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

  async probe (timeoutMs: number): Promise<number> {
    if (!this.connected) throw new BusUnavailableError()
    const canary = `${CANARY_PREFIX}${this.serverId}:${++this.canarySequence}`
    const started = performance.now()
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new BusUnavailableError('the canary did not come back')), timeoutMs)
        this.canaries.set(canary, () => { clearTimeout(timer); resolve() })
        // Sent by the fence script, which reads the clock, not by a bare publish: a cluster that
        // lost a master with no replica still passes sharded messages, while it refuses every
        // command on a key (CLUSTERDOWN), the publish script's included.
        this.history.fence(canary).catch((err: unknown) => { clearTimeout(timer); reject(err) })
      })
    } catch (err) {
      // A lost canary means a subscription that no longer delivers: make it again.
      this.resubscribe()
      throw err
    } finally {
      this.canaries.delete(canary)
    }
    return performance.now() - started
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
    this.subscriber.disconnect()
    this.durablePublisher?.disconnect()
  }

  /** Sends a canary through the channel and resolves, once it is back, with the id it follows. */
  private async fence (): Promise<string | undefined> {
    const canary = `${CANARY_PREFIX}${this.serverId}:fence:${++this.canarySequence}`
    let timer: NodeJS.Timeout | undefined
    const back = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new SubscriptionLostError('the fence did not come back')), FENCE_TIMEOUT_MS)
      this.canaries.set(canary, resolve)
    })
    try {
      const [last] = await Promise.all([this.history.fence(canary), back])
      return last
    } finally {
      clearTimeout(timer)
      this.canaries.delete(canary)
    }
  }

  private deliver (message: BusMessage): void {
    // Refills overlap live messages; only what comes after the last delivered id is new.
    if (this.lastId !== undefined && compareIds(message.event.id, this.lastId) <= 0) return
    this.lastId = message.event.id
    this.handler?.(message)
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
  private async resync (): Promise<void> {
    this.filling ??= []
    if (this.resyncing) {
      this.again = true
      return
    }
    this.resyncing = true
    try {
      this.lastId ??= await this.history.lastId()
      await this.subscriber[this.pubSub.subscribe](EVENTS_CHANNEL).catch((err: Error) => { throw new SubscriptionLostError(err.message) })
      const fence = await this.fence()
      const arrived = this.filling
      let woven = 0
      let past = false
      for (let page = await this.history.after(this.lastId, FILL_PAGE); !past; page = await this.history.after(this.lastId, FILL_PAGE)) {
        for (const message of page.messages) {
          past = fence !== undefined && compareIds(message.event.id, fence) > 0
          if (past) break
          for (; woven < arrived.length && compareIds((arrived[woven] as BusMessage).event.id, message.event.id) < 0; woven++) this.deliver(arrived[woven] as BusMessage)
          this.deliver(message)
        }
        if (page.messages.length < FILL_PAGE) break
      }
      if (this.again) {
        this.again = false
        this.resyncing = false
        return await this.resync()
      }
      const waiting = this.filling
      this.filling = undefined
      for (const message of waiting) this.deliver(message)
    } catch (err) {
      if (this.closed) return
      this.log.warn({ err }, 'could not refill events from the history; retrying')
      if (err instanceof SubscriptionLostError) this.replaceSubscriber()
      setTimeout(() => { void this.resync() }, FILL_RETRY_MS).unref()
    } finally {
      this.resyncing = false
    }
  }
}
