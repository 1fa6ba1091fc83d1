export interface BackoffOptions {
  /** The first retry waits up to this long. */
  baseMs: number
  /** No retry waits longer than this. */
  capMs: number
  /** Reconnects in a row without reaching the server before the client gives up; unset: never. */
  maxAttempts?: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 }

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(cap, base·2^attempt)).
 * Spreading the whole range (not a jitter added to a fixed delay) keeps thousands of clients
 * dropped by one instance from coming back in waves on the next one.
 */
export function backoffDelay (attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt))
  return Math.floor(random() * ceiling)
}
