/** Where repeated reports come from: an address, a user, or every source past the table's cap. */
export interface RepeatSource {
  ip?: string | undefined
  userId?: string | undefined
}

/** What a closed window held back: `count` reports of `type` from `source` over `elapsedMs`. */
export interface RepeatSummary<T extends string> {
  type: T
  /** Undefined for the sources that found the table full. */
  source: RepeatSource | undefined
  count: number
  elapsedMs: number
}

export interface RepeatOptions {
  /** How long a source's window lasts. */
  windowMs: number
  /** Reports let through per type and source in a window; the rest are counted. */
  burst: number
  /** Sources tracked at once; past it, new sources share one window per type. */
  maxSources: number
}

interface Window<T extends string> {
  type: T
  source: RepeatSource | undefined
  startedAt: number
  seen: number
  held: number
}

/**
 * Lets the first `burst` reports of a type from one source through in each window and counts
 * the rest; a window that held some back is summarised once, when the next report of it is let
 * through or when a sweep finds it closed. The table is capped: a flood from ever new (spoofed)
 * sources shares one window per type instead of growing it, and closed windows are dropped.
 */
export class RepeatThrottle<T extends string> {
  private readonly windows = new Map<string, Window<T>>()
  private readonly overflow = new Map<T, Window<T>>()

  constructor (private readonly options: RepeatOptions, private readonly summarise: (summary: RepeatSummary<T>) => void) {}

  /** Tracked windows, shared ones included: bounded by `maxSources` plus one per type. */
  get size (): number {
    return this.windows.size + this.overflow.size
  }

  /** Whether this report is let through. */
  admit (type: T, source: RepeatSource, now: number = Date.now()): boolean {
    const window = this.windowOf(type, source, now)
    if (now - window.startedAt >= this.options.windowMs) {
      this.close(window, now)
      window.startedAt = now
    }
    if (++window.seen <= this.options.burst) return true
    window.held++
    return false
  }

  /** Summarises and drops the windows that have closed (all of them with `all`). */
  sweep (now: number = Date.now(), all = false): void {
    for (const table of [this.windows, this.overflow] as Array<Map<unknown, Window<T>>>) {
      for (const [key, window] of table) {
        if (!all && now - window.startedAt < this.options.windowMs) continue
        this.close(window, now)
        table.delete(key)
      }
    }
  }

  private windowOf (type: T, source: RepeatSource, now: number): Window<T> {
    const key = `${type}\n${source.ip ?? ''}\n${source.userId ?? ''}`
    let window = this.windows.get(key)
    if (window !== undefined) return window
    if (this.windows.size >= this.options.maxSources) {
      window = this.overflow.get(type)
      if (window === undefined) this.overflow.set(type, window = { type, source: undefined, startedAt: now, seen: 0, held: 0 })
      return window
    }
    window = { type, source: { ip: source.ip, userId: source.userId }, startedAt: now, seen: 0, held: 0 }
    this.windows.set(key, window)
    return window
  }

  private close (window: Window<T>, now: number): void {
    if (window.held > 0) this.summarise({ type: window.type, source: window.source, count: window.held, elapsedMs: now - window.startedAt })
    window.seen = 0
    window.held = 0
  }
}
