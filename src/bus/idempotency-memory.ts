/** Ids published under idempotency keys, each forgotten after its TTL. */
export class IdempotencyMemory {
  private readonly entries = new Map<string, { ids: string[], expiresAt: number }>()

  get (key: string | undefined, now: number = Date.now()): string[] | undefined {
    if (key === undefined) return undefined
    this.forgetExpired(now)
    return this.entries.get(key)?.ids
  }

  set (key: string | undefined, ids: string[], ttlMs: number, now: number = Date.now()): void {
    if (key === undefined || ttlMs <= 0) return
    this.forgetExpired(now)
    this.entries.delete(key)
    this.entries.set(key, { ids, expiresAt: now + ttlMs })
  }

  /** Entries are kept in insertion order and share one TTL, so the expired ones are in front. */
  private forgetExpired (now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return
      this.entries.delete(key)
    }
  }
}
