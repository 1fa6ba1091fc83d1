import type { Bus } from './bus/bus.js'
import type { Log } from './logging.js'

/**
 * Proves events are flowing: at a fixed interval a tiny canary goes through the bus and must
 * come back within the interval. A subscription can look connected and still deliver nothing
 * (a failover, a stuck subscriber); the canary notices, and the bus then re-establishes it.
 */
export class Canary {
  private timer: NodeJS.Timeout | undefined
  private passing = true
  private roundTripMs: number | undefined

  constructor (private readonly bus: Bus, private readonly intervalMs: number, private readonly log: Log) {}

  /** False from a canary that did not come back until one that does. */
  get healthy (): boolean {
    return this.passing
  }

  /** The last canary's publish→receive time, in milliseconds. */
  get lastRoundTripMs (): number | undefined {
    return this.roundTripMs
  }

  start (): void {
    this.timer = setInterval(() => { void this.check() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  async check (): Promise<void> {
    try {
      this.roundTripMs = await this.bus.probe(this.intervalMs)
      if (!this.passing) this.log.info({ roundTripMs: this.roundTripMs }, 'canary back: events flow again')
      this.passing = true
    } catch (err) {
      if (this.passing) this.log.warn({ err }, 'canary lost: events are not flowing')
      this.passing = false
    }
  }
}
