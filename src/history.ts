import type { BusMessage } from './bus/bus.js'
import { compareIds } from './event-id.js'

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

/** The embedded history: a ring buffer of the last events, trimmed by count and by age. */
export class RingHistory implements History {
  private readonly slots: Array<BusMessage | undefined>
  private start = 0
  private count = 0
  private lastTrimmed: string | undefined
  private firstId: string | undefined
  private lastId: string | undefined

  constructor (private readonly retention: Retention, private readonly now: () => number = Date.now) {
    this.slots = new Array<BusMessage | undefined>(retention.maxEvents)
  }

  append (message: BusMessage): void {
    if (this.count === this.slots.length) this.dropOldest()
    this.slots[(this.start + this.count) % this.slots.length] = message
    this.count++
    this.firstId ??= message.event.id
    this.lastId = message.event.id
    this.trimByAge()
  }

  async after (since: string, limit: number): Promise<HistoryPage> {
    this.trimByAge()
    const truncated = (this.lastTrimmed !== undefined && compareIds(since, this.lastTrimmed) < 0) ||
      (this.lastId === undefined ? since !== '0-0' : compareIds(since, this.lastId) > 0) ||
      // An id from before this history began (a gateway that restarted): what followed it is lost.
      (this.firstId !== undefined && since !== '0-0' && compareIds(since, this.firstId) < 0)
    const messages: BusMessage[] = []
    for (let i = this.firstAfter(since); i < this.count && messages.length < limit; i++) messages.push(this.at(i))
    return { messages, truncated }
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
