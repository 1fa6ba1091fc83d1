import { type EventDraft, eventJson } from '../events.js'
import { type Retention, RingHistory } from '../history.js'
import { Partitioning } from '../partitions.js'
import { IdClock } from '../wire/event-id.js'
import { type Bus, type BusHandler, type BusMessage, BusUnavailableError, type Idempotency } from './bus.js'
import { IdempotencyMemory } from './idempotency-memory.js'

/**
 * The embedded bus: one instance, no Redis, one partition. Delivery is asynchronous, as it is
 * over Redis.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory'
  readonly partitioning = new Partitioning(1)
  readonly history: RingHistory
  private readonly clock = new IdClock()
  private readonly remembered = new IdempotencyMemory()
  private handler: BusHandler | undefined
  private closed = false
  /** Its history begins with this bus: from the start, every event comes. */
  private delivered = '0-0'

  constructor (retention: Retention) {
    this.history = new RingHistory(retention)
  }

  get connected (): boolean {
    return !this.closed
  }

  positionOf (): string {
    return this.delivered
  }

  async read (): Promise<void> {}

  unread (): void {}

  async readRoom (): Promise<void> {}

  unreadRoom (): void {}

  async subscribe (handler: BusHandler): Promise<void> {
    this.handler = handler
  }

  async publish (drafts: readonly EventDraft[], idempotency?: Idempotency): Promise<string[]> {
    if (this.closed) throw new BusUnavailableError('the bus is closed')
    const ttlMs = idempotency?.ttlMs ?? 0
    const prior = this.remembered.get(idempotency?.requestKey)
    if (prior !== undefined) return prior
    const fresh: BusMessage[] = []
    const ids = drafts.map((draft, i) => {
      const key = idempotency?.eventKeys?.[i]
      const known = this.remembered.get(key)?.[0]
      if (known !== undefined) return known
      const id = this.clock.next()
      const message = { event: { id, ...draft }, json: eventJson(id, JSON.stringify(draft)) }
      this.history.append(message)
      fresh.push(message)
      this.remembered.set(key, [id], ttlMs)
      return id
    })
    this.remembered.set(idempotency?.requestKey, ids, ttlMs)
    queueMicrotask(() => {
      for (const message of fresh) {
        this.delivered = message.event.id
        this.handler?.(message)
      }
    })
    return ids
  }

  async publishLive (draft: EventDraft): Promise<string> {
    if (this.closed) throw new BusUnavailableError('the bus is closed')
    const id = this.clock.next()
    this.history.noteLive(id)
    const message = { event: { id, ...draft }, json: eventJson(id, JSON.stringify(draft)) }
    queueMicrotask(() => {
      this.delivered = id
      this.handler?.(message)
    })
    return id
  }

  async probe (): Promise<number> {
    const started = performance.now()
    await new Promise<void>((resolve) => queueMicrotask(resolve))
    return performance.now() - started
  }

  async close (): Promise<void> {
    this.closed = true
    this.handler = undefined
  }
}
