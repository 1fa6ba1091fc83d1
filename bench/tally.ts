import { nowMicros } from './wire.js'

const UNSEEN = 0
const SEEN = 1
const EXCUSED = 2

/**
 * Counts the deliveries of one measured phase against what was due: each (client, event) pair
 * the scenario expects has a slot, so a delivery is counted once, a second one is a duplicate,
 * and one to a client that was not due it is unexpected. Latencies are kept when asked. Slots of
 * events whose publish request failed are excused: their absence is not a loss.
 */
export class Tally {
  private readonly seen: Uint8Array
  private readonly latencies: Float64Array | undefined
  delivered = 0
  excused = 0
  duplicates = 0
  unexpected = 0
  /** performance.now() of the last delivery counted. */
  lastAt = 0

  constructor (readonly expected: number, private readonly slot: (client: number, seq: number) => number, keepLatency: boolean) {
    this.seen = new Uint8Array(expected)
    this.latencies = keepLatency ? new Float64Array(expected) : undefined
  }

  readonly record = (client: number, seq: number, tMicros: number): void => {
    const slot = this.slot(client, seq)
    if (slot < 0 || slot >= this.expected) {
      this.unexpected++
      return
    }
    if (this.seen[slot] === SEEN) {
      this.duplicates++
      return
    }
    if (this.seen[slot] === EXCUSED) this.excused--
    this.seen[slot] = SEEN
    if (this.latencies !== undefined) this.latencies[this.delivered] = (nowMicros() - tMicros) / 1000
    this.delivered++
    this.lastAt = performance.now()
  }

  get lost (): number {
    return this.expected - this.delivered - this.excused
  }

  /** Takes slots not yet delivered off what is due. */
  excuse (slots: Iterable<number>): void {
    for (const slot of slots) {
      if (this.seen[slot] !== UNSEEN) continue
      this.seen[slot] = EXCUSED
      this.excused++
    }
  }

  /** Latencies in ms of the deliveries counted, sorted. */
  sortedLatencies (): Float64Array {
    return (this.latencies ?? new Float64Array(0)).slice(0, this.delivered).sort()
  }

  /**
   * Resolves once everything due has arrived, or when nothing new has arrived for `quietMs`:
   * what is missing then is lost.
   */
  async drained (quietMs: number): Promise<void> {
    let last = this.delivered
    let since = performance.now()
    while (this.lost > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      if (this.delivered !== last) {
        last = this.delivered
        since = performance.now()
      } else if (performance.now() - since > quietMs) {
        return
      }
    }
  }
}
