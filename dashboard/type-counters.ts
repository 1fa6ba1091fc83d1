import { fillRows } from './dom.js'

/** Rates are averaged over this many one-second buckets. */
const WINDOW_SECONDS = 10
/**
 * Types tracked one by one; further types share one row. Publishers choose types, so a flood
 * of distinct ones must not grow the page without bound.
 */
const MAX_TYPES = 200
const OTHER = '(other types)'

/** Counts per second over the last WINDOW_SECONDS, in a ring of buckets tagged with their second. */
class Rate {
  private readonly counts = new Array<number>(WINDOW_SECONDS).fill(0)
  private readonly seconds = new Array<number>(WINDOW_SECONDS).fill(-1)

  add (second: number): void {
    const i = second % WINDOW_SECONDS
    if (this.seconds[i] !== second) {
      this.seconds[i] = second
      this.counts[i] = 0
    }
    this.counts[i] = (this.counts[i] ?? 0) + 1
  }

  perSecond (now: number): number {
    let sum = 0
    for (let i = 0; i < WINDOW_SECONDS; i++) if ((this.seconds[i] ?? -1) > now - WINDOW_SECONDS) sum += this.counts[i] ?? 0
    return sum / WINDOW_SECONDS
  }
}

interface Counter { total: number, rate: Rate }

/** Per-type totals and events per second, computed from the stream the page receives. */
export class TypeCounters {
  private readonly counters = new Map<string, Counter>()
  private readonly all: Counter = { total: 0, rate: new Rate() }

  record (type: string, now = Date.now()): void {
    const second = Math.floor(now / 1000)
    const key = this.counters.has(type) || this.counters.size < MAX_TYPES ? type : OTHER
    let counter = this.counters.get(key)
    if (counter === undefined) {
      counter = { total: 0, rate: new Rate() }
      this.counters.set(key, counter)
    }
    for (const c of [counter, this.all]) {
      c.total++
      c.rate.add(second)
    }
  }

  reset (): void {
    this.counters.clear()
    this.all.total = 0
    this.all.rate = new Rate()
  }

  /** Renders the table, busiest type first, and returns the totals over every type. */
  render (body: HTMLTableSectionElement, now = Date.now()): { total: number, perSecond: number } {
    const second = Math.floor(now / 1000)
    const rows = [...this.counters].sort((a, b) => b[1].total - a[1].total)
      .map(([type, c]) => [type, c.total, c.rate.perSecond(second).toFixed(1)])
    fillRows(body, rows)
    return { total: this.all.total, perSecond: this.all.rate.perSecond(second) }
  }
}
