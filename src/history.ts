import type { BusMessage } from './bus/bus.js'
import { compareIds, localId } from './wire/event-id.js'

/** How much history is kept: at most `maxEvents`, none older than `maxAgeMs`. */
export interface Retention {
  maxEvents: number
  maxAgeMs: number
}

export interface HistoryPage {
  /** Retained events after the requested id, oldest first. */
  messages: BusMessage[]
  /** True when events after the requested id may have been trimmed (or the history was lost). */
  truncated: boolean
}

/** The read side of the event log, for resuming subscribers and refilling a gap. */
export interface History {
  after: (since: string, limit: number) => Promise<HistoryPage>
}

const idTime = (id: string): number => Number(id.slice(0, id.indexOf('-')))

/** What a history knows of the ids it numbered, to tell whether events after an id were lost. */
export interface HistoryBounds {
  /** The first id issued in this history; an id before it comes from a history that was lost. */
  origin: string | undefined
  /** The newest id issued, to an event kept or live-only; undefined before the first. */
  newest: string | undefined
  /** The oldest event still kept. */
  oldest: string | undefined
  /** Whether any kept event was ever trimmed. */
  trimmed: boolean
  /** The newest id trimmed, where the history knows it exactly. */
  lastTrimmed?: string | undefined
}

/**
 * Whether events after `since` may be gone. An id is placed by the clock, not by being held:
 * live-only events are never kept, so their ids are not. Past the newest id issued, or before
 * the origin, `since` cannot be placed. At or after the oldest kept event nothing after it was
 * trimmed, since trimming takes the oldest first; before it, something was when anything was,
 * unless the history knows the newest trimmed id.
 */
export function lostAfter (since: string, bounds: HistoryBounds): boolean {
  if (localId(since) === '0-0') return bounds.trimmed
  if (bounds.newest === undefined || compareIds(since, bounds.newest) > 0) return true
  if (bounds.origin !== undefined && compareIds(since, bounds.origin) < 0) return true
  if (bounds.lastTrimmed !== undefined) return compareIds(since, bounds.lastTrimmed) < 0
  if (bounds.oldest !== undefined && compareIds(since, bounds.oldest) >= 0) return false
  return bounds.trimmed
}

/**
 * The embedded history: a ring buffer of the last events, trimmed by count and by age. Ids
 * given to live-only events are noted (`noteLive`), so it places them without keeping them.
 */
export class RingHistory implements History {
  private readonly slots: Array<BusMessage | undefined>
  private start = 0
  private count = 0
  private lastTrimmed: string | undefined
  private origin: string | undefined
  private newest: string | undefined

  constructor (private readonly retention: Retention, private readonly now: () => number = Date.now) {
    this.slots = new Array<BusMessage | undefined>(retention.maxEvents)
  }

  append (message: BusMessage): void {
    if (this.count === this.slots.length) this.dropOldest()
    this.slots[(this.start + this.count) % this.slots.length] = message
    this.count++
    this.issued(message.event.id)
    this.trimByAge()
  }

  /** Notes the id of a live-only event: not kept, but an id this history can place. */
  noteLive (id: string): void {
    this.issued(id)
  }

  async after (since: string, limit: number): Promise<HistoryPage> {
    this.trimByAge()
    // The ring knows the newest trimmed id exactly; an id from before its origin comes from a
    // gateway that restarted, and what followed it is lost.
    const truncated = lostAfter(since, {
      origin: this.origin,
      newest: this.newest,
      oldest: this.count === 0 ? undefined : this.at(0).event.id,
      trimmed: this.lastTrimmed !== undefined,
      lastTrimmed: this.lastTrimmed
    })
    const messages: BusMessage[] = []
    for (let i = this.firstAfter(since); i < this.count && messages.length < limit; i++) messages.push(this.at(i))
    return { messages, truncated }
  }

  private issued (id: string): void {
    this.origin ??= id
    this.newest = id
  }

  private at (index: number): BusMessage {
    return this.slots[(this.start + index) % this.slots.length] as BusMessage
  }

  /** Binary search: the ring is in id order. */
  private firstAfter (since: string): number {
    let low = 0
    let high = this.count
    while (low < high) {
      const mid = (low + high) >>> 1
      if (compareIds(this.at(mid).event.id, since) <= 0) low = mid + 1
      else high = mid
    }
    return low
  }

  private dropOldest (): void {
    this.lastTrimmed = this.at(0).event.id
    this.slots[this.start] = undefined
    this.start = (this.start + 1) % this.slots.length
    this.count--
  }

  private trimByAge (): void {
    const cutoff = this.now() - this.retention.maxAgeMs
    while (this.count > 0 && idTime(this.at(0).event.id) < cutoff) this.dropOldest()
  }
}
