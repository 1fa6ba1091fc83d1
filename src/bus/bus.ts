import type { EventDraft, GatewayEvent } from '../events.js'
import type { History } from '../history.js'
import type { Partitioning } from '../partitions.js'
import type { Stream } from '../wire/streams.js'

/**
 * What the bus hands to subscribers: the event and its JSON text. The text travels with the
 * event so an instance serializes each event once, not once per subscriber.
 */
export interface BusMessage {
  event: GatewayEvent
  json: string
}

export type BusHandler = (message: BusMessage) => void

/**
 * Keys that make a publish safe to retry: a key already used within `ttlMs` returns the ids
 * it got the first time instead of publishing again. Keys come namespaced by publisher.
 */
export interface Idempotency {
  ttlMs: number
  /** For the whole request (the `Idempotency-Key` header). */
  requestKey?: string | undefined
  /** Per event, in the order of the drafts (`idempotencyKey`). */
  eventKeys?: ReadonlyArray<string | undefined>
}

/**
 * The event log and its fan-out: `publish` gives each draft its ordered id, keeps it in the
 * history and delivers it to every instance once, all or nothing. Implementations:
 * `MemoryBus` (one process) and `RedisBus` (a Redis stream and pub/sub, every instance).
 */
export interface Bus {
  readonly kind: 'memory' | 'redis'
  /** True while events can be published and received. */
  readonly connected: boolean
  /** Reads the partition that the `since` id it is given names. */
  readonly history: History
  readonly partitioning: Partitioning
  /**
   * The newest id of a partition this instance has handed to its handler, or the one it began
   * reading after: every later event of the partition reaches the handler. Undefined while the
   * partition is not read here.
   */
  positionOf: (partition: string) => string | undefined
  /**
   * Reads what a stream of `userId` receives (Partitioning.interests), for one more socket here;
   * resolves once the bus has a position in each partition it reads. The broadcasts are read
   * always.
   */
  read: (stream: Stream, userId: string) => Promise<void>
  /** One socket fewer: what no socket here receives any more stops being read. */
  unread: (stream: Stream, userId: string) => void
  /** Reads a room's events, for one more member socket here; resolves as `read` does. */
  readRoom: (room: string) => Promise<void>
  /** One member socket of the room fewer here. */
  unreadRoom: (room: string) => void
  /** Resolves with the ids, in draft order, once the events are in the history. */
  publish: (drafts: readonly EventDraft[], idempotency?: Idempotency) => Promise<string[]>
  /**
   * Publishes a live-only event: delivered to every instance like any other, with an id in the
   * same order (never equal to another's), but never kept in the history, so never replayed nor
   * refilled. For the gateway's own security events, which must not push clients' events out.
   */
  publishLive: (draft: EventDraft) => Promise<string>
  /**
   * Registers the one handler that receives the events of the partitions read, each partition
   * in id order; call before publishing.
   */
  subscribe: (handler: BusHandler) => Promise<void>
  /**
   * Sends a canary through the fan-out of every partition read and resolves with the slowest
   * round trip in ms; rejects when one does not come back within `timeoutMs`, after starting to
   * re-establish the subscription.
   */
  probe: (timeoutMs: number) => Promise<number>
  close: () => Promise<void>
}

export class BusUnavailableError extends Error {
  constructor (message = 'the event bus is unreachable') {
    super(message)
    this.name = 'BusUnavailableError'
  }
}
