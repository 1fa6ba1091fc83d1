type Timer = ReturnType<typeof setTimeout>

/**
 * Dead-connection detection for clients that cannot see WebSocket pings (browsers): after
 * `intervalMs` without a frame it probes (the client sends a `ping` request, answered `pong`),
 * and after `intervalMs + graceMs` without one it declares the connection dead. Every frame
 * counts as traffic. One timer that reads a timestamp: nothing is re-armed per frame.
 */
export class Watchdog {
  private lastSeen = Date.now()
  private probed = false
  private timer: Timer | undefined

  constructor (
    private readonly intervalMs: number,
    private readonly graceMs: number,
    private readonly probe: () => void,
    private readonly dead: () => void
  ) {
    this.arm(intervalMs)
  }

  seen (): void {
    this.lastSeen = Date.now()
    this.probed = false
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm (ms: number): void {
    this.timer = setTimeout(this.check, Math.max(1, ms))
  }

  private readonly check = (): void => {
    const silent = Date.now() - this.lastSeen
    if (silent >= this.intervalMs + this.graceMs) {
      this.timer = undefined
      this.dead()
      return
    }
    if (silent >= this.intervalMs && !this.probed) {
      this.probed = true
      this.probe()
    }
    this.arm(silent >= this.intervalMs ? this.intervalMs + this.graceMs - silent : this.intervalMs - silent)
  }
}
