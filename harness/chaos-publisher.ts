import { setTimeout as delay } from 'node:timers/promises'

/** An event the gateway accepted: the user it was addressed to, none for a broadcast. */
export interface Accepted {
  seq: number
  userId: string | undefined
}

export interface PublisherOptions {
  /** The gateways' http:// base URLs, read at every attempt: a load balancer's view. */
  targets: () => readonly string[]
  /** A token with the right to publish. */
  bearer: string
  /** Events started per second. */
  rate: number
  /** Events go to `u0`…`u<users-1>` in turn; every third one is a broadcast. */
  users: number
  /** Makes the idempotency keys of one run unique. */
  runId: string
  /** How long one event is retried before the publisher gives up on it. */
  deadlineMs: number
}

/** One HTTP attempt that the gateway may be too slow or too dead to answer. */
const REQUEST_TIMEOUT_MS = 5000
/** After a connection error: the next instance is tried after this, as a client library would. */
const RECONNECT_BACKOFF_MS = 50
/** Retry-After is honoured, within reason. */
const MAX_RETRY_AFTER_MS = 5000
const TICK_MS = 10

/**
 * A backend service publishing a steady stream of events, one request each, the way docs/http-api.md
 * says to: every event has its own `Idempotency-Key`, and a `503` or a connection error is
 * retried with that same key (on the next instance) until the gateway answers `202`. So an
 * event whose first attempt died with Redis or with an instance is accepted once, not twice.
 */
export class SteadyPublisher {
  /** Accepted events by id. */
  readonly accepted = new Map<string, Accepted>()
  /** Sequence numbers of the events given up: the gateway may have published them all the same. */
  readonly abandoned = new Set<number>()
  readonly counts = { published: 0, accepted: 0, attempts: 0, refused503: 0, connectionErrors: 0, rejected: 0, gaveUp: 0, idCollisions: 0 }
  private readonly inFlight = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private startedAt = 0
  private startedEvents = 0

  constructor (private readonly options: PublisherOptions) {}

  /** Publishes one event and resolves once it is accepted (or given up): the warm-up. */
  async publishNext (): Promise<string | undefined> {
    return await this.launch()
  }

  /** Starts events at `rate` per second until `stop`. */
  start (): void {
    this.startedAt = performance.now()
    this.startedEvents = 0
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.startedAt) * this.options.rate / 1000)
      while (this.startedEvents < due) {
        this.startedEvents++
        void this.launch()
      }
    }, TICK_MS)
  }

  /** Stops starting events and waits for the ones under way to be accepted or given up. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  private async launch (): Promise<string | undefined> {
    const seq = this.counts.published++
    const task = this.publish(seq)
    const settled = task.then(() => { this.inFlight.delete(settled) })
    this.inFlight.add(settled)
    return await task
  }

  private async publish (seq: number): Promise<string | undefined> {
    const { users, bearer, runId, deadlineMs } = this.options
    const userId = seq % 3 === 0 ? undefined : `u${seq % users}`
    const body = JSON.stringify({ type: userId === undefined ? 'chaos.broadcast' : 'chaos.user', ...(userId === undefined ? {} : { userId }), data: { seq } })
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, 'idempotency-key': `${runId}-${seq}` }
    const deadline = Date.now() + deadlineMs
    let target = seq
    while (Date.now() < deadline) {
      const targets = this.options.targets()
      const url = `${targets[target % targets.length] ?? ''}/events`
      this.counts.attempts++
      let response: Response
      try {
        response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      } catch {
        // Refused, reset or timed out: the request may or may not have been published.
        this.counts.connectionErrors++
        target++
        await delay(RECONNECT_BACKOFF_MS)
        continue
      }
      if (response.status === 202) return this.record(seq, userId, ((await response.json()) as { ids: string[] }).ids[0])
      await response.arrayBuffer()
      if (response.status !== 503) {
        this.counts.rejected++
        return undefined
      }
      this.counts.refused503++
      target++
      const retryAfter = Number(response.headers.get('retry-after'))
      await delay(Math.min(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000, MAX_RETRY_AFTER_MS))
    }
    this.counts.gaveUp++
    this.abandoned.add(seq)
    return undefined
  }

  private record (seq: number, userId: string | undefined, id: string | undefined): string | undefined {
    if (id === undefined) {
      this.counts.rejected++
      return undefined
    }
    // Two events under one id would be one event lost to every subscriber.
    if (this.accepted.has(id)) this.counts.idCollisions++
    this.accepted.set(id, { seq, userId })
    this.counts.accepted++
    return id
  }
}
