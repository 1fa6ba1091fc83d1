/** What the watch reads: `Bus.connected`. */
export interface Connectable {
  readonly connected: boolean
}

export interface BusWatchListener {
  lost: (at: number) => void
  /** `lostAt` is when the loss was seen: the lost event, unpublishable until now, can say it. */
  recovered: (lostAt: number, now: number) => void
}

/**
 * Tells when the bus's connected state flips, by reading it every `intervalMs`: the bus has no
 * single place where it changes (publisher, subscriber and each partition's reader all count),
 * and reading a getter once a second costs nothing. A flip shorter than the interval goes unseen.
 */
export class BusWatch {
  private timer: NodeJS.Timeout | undefined
  private lostAt: number | undefined

  constructor (private readonly bus: Connectable, private readonly intervalMs: number, private readonly listener: BusWatchListener) {}

  start (): void {
    this.timer = setInterval(() => { this.check() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  check (now = Date.now()): void {
    const connected = this.bus.connected
    if (!connected && this.lostAt === undefined) {
      this.lostAt = now
      this.listener.lost(now)
    } else if (connected && this.lostAt !== undefined) {
      const { lostAt } = this
      this.lostAt = undefined
      this.listener.recovered(lostAt, now)
    }
  }
}
