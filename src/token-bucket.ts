/**
 * A token bucket: up to `capacity` actions at once, refilled at `perSecond`. Used for each
 * connection's messages and for this instance's security events.
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor (private readonly capacity: number, private readonly perSecond: number, now: number = Date.now()) {
    this.tokens = capacity
    this.updatedAt = now
  }

  /** Takes one token if there is one. */
  take (now: number = Date.now()): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond)
    this.updatedAt = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
