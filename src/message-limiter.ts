import { TokenBucket } from './token-bucket.js'

export interface MessageLimits {
  burst: number
  perSecond: number
  /** Refused frames within one abuse window that close the connection. */
  abuseLimit: number
}

/** The window over which refused frames are counted as abuse. */
const ABUSE_WINDOW_MS = 10_000

/**
 * One connection's message rate: a token bucket for frames, and a count of refused frames per
 * window. A client that keeps sending past its bucket is not merely slowed but closed.
 */
export class MessageLimiter {
  private readonly bucket: TokenBucket
  private refused = 0
  private windowStart: number

  constructor (private readonly limits: MessageLimits, now: number = Date.now()) {
    this.bucket = new TokenBucket(limits.burst, limits.perSecond, now)
    this.windowStart = now
  }

  check (now: number = Date.now()): 'accept' | 'refuse' | 'close' {
    if (this.bucket.take(now)) return 'accept'
    if (now - this.windowStart >= ABUSE_WINDOW_MS) {
      this.windowStart = now
      this.refused = 0
    }
    this.refused++
    return this.refused > this.limits.abuseLimit ? 'close' : 'refuse'
  }
}
