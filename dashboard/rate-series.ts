/** Seconds of history the chart holds: fifteen minutes, one bucket a second. */
export const WINDOW_SECONDS = 900
/** Series drawn beside the total; the namespaces past it share one. Publishers pick namespaces. */
export const MAX_SERIES = 6
export const OTHER = '(other)'
export const TOTAL = 'total'

/**
 * Events per second over the last WINDOW_SECONDS, in total and per key (a namespace), in rings
 * of buckets tagged with their second: memory stays fixed however long the page stays open.
 * An event is counted in the second of its own timestamp, not of its arrival, so events
 * replayed after a reconnect land where they happened and do not inflate the current rate.
 */
export class RateSeries {
  private readonly seconds = new Float64Array(WINDOW_SECONDS).fill(-1)
  private readonly counts = new Map<string, Float64Array>([[TOTAL, new Float64Array(WINDOW_SECONDS)]])

  /** Counts one event at `timestampMs` (its gateway time), at most `nowMs`; older than the window, it is left out. */
  record (key: string, timestampMs: number, nowMs: number = Date.now()): boolean {
    const now = Math.floor(nowMs / 1000)
    // A gateway clock slightly ahead of the page's would otherwise draw events in the future.
    const second = Math.min(Number.isFinite(timestampMs) ? Math.floor(timestampMs / 1000) : now, now)
    if (second <= now - WINDOW_SECONDS) return false
    const slot = second % WINDOW_SECONDS
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second
      for (const series of this.counts.values()) series[slot] = 0
    }
    for (const series of [this.counts.get(TOTAL), this.seriesFor(key)]) if (series !== undefined) series[slot] = (series[slot] ?? 0) + 1
    return true
  }

  reset (): void {
    this.seconds.fill(-1)
    this.counts.clear()
    this.counts.set(TOTAL, new Float64Array(WINDOW_SECONDS))
  }

  /** Uplot's columns: the seconds of the window, oldest first, then one row of counts per series. */
  columns (nowMs: number = Date.now()): { labels: string[], x: number[], rows: number[][] } {
    const now = Math.floor(nowMs / 1000)
    const labels = [...this.counts.keys()]
    const x: number[] = []
    const rows = labels.map((): number[] => [])
    for (let second = now - WINDOW_SECONDS + 1; second <= now; second++) {
      x.push(second)
      const slot = second % WINDOW_SECONDS
      const current = this.seconds[slot] === second
      labels.forEach((label, i) => { rows[i]?.push(current ? this.counts.get(label)?.[slot] ?? 0 : 0) })
    }
    return { labels, x, rows }
  }

  private seriesFor (key: string): Float64Array | undefined {
    const name = this.counts.has(key) || this.counts.size <= MAX_SERIES ? key : OTHER
    let series = this.counts.get(name)
    if (series === undefined) {
      series = new Float64Array(WINDOW_SECONDS)
      this.counts.set(name, series)
    }
    return series
  }
}
