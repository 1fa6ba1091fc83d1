/**
 * State that must hold identically on every instance: counters with a window, single-use
 * values, flags with a lifetime, and per-user connection slots. `MemoryStore` keeps it in the
 * process (the embedded default); `RedisStore` keeps it in Redis. Keys are plain names; each
 * implementation adds its own prefix.
 */
export interface Store {
  /** Adds one to `key` and returns the new count; the count starts a window of `ttlMs`. */
  increment: (key: string, ttlMs: number) => Promise<number>
  put: (key: string, value: string, ttlMs: number) => Promise<void>
  /** Sets `key` for `ttlMs` unless it is set: true for the one caller that set it (a nonce's first use). */
  claim: (key: string, ttlMs: number) => Promise<boolean>
  get: (key: string) => Promise<string | null>
  /** Returns the value and deletes it, atomically: a second take gets null. */
  take: (key: string) => Promise<string | null>
  /** Milliseconds until `key` expires; 0 when it does not exist. */
  ttl: (key: string) => Promise<number>
  /**
   * Takes one of at most `limit` slots in `key` for `member`, for `ttlMs` unless refreshed.
   * False when all slots are taken. Holding a slot already counts as taking it.
   */
  acquireSlot: (key: string, member: string, limit: number, ttlMs: number) => Promise<boolean>
  /** Keeps the given members' slots (re-adding them if lost) for another `ttlMs`. */
  refreshSlots: (slots: ReadonlyArray<{ key: string, member: string }>, ttlMs: number) => Promise<void>
  releaseSlot: (key: string, member: string) => Promise<void>
  /**
   * An upgrade in one call: `increment` of `count.key` in its window of `count.windowMs`, then,
   * unless the count is past `count.max`, `acquireSlot` of `slot.member` in `slot.key`.
   */
  admitUpgrade: (count: { key: string, windowMs: number, max: number }, slot: { key: string, member: string, limit: number, ttlMs: number }) => Promise<UpgradeAdmission>
  /**
   * Adds a revocation rule (`token:<jti>`, `session:<id>` or `user:<id>`) to the one list of
   * revocations every instance loads, kept `ttlMs` from `revokedAt` (a later `revokedAt` of the
   * same rule wins), and tells the instances that watch it (RedisStore: REVOCATIONS_CHANNEL).
   */
  recordRevocation: (rule: string, revokedAt: number, ttlMs: number) => Promise<void>
  /** The revocations recorded within the last `ttlMs`, oldest first, at most `limit` of them. */
  revocationList: (ttlMs: number, limit: number) => Promise<RecordedRevocation[]>
  close: () => Promise<void>
}

export interface RecordedRevocation {
  rule: string
  /** Epoch milliseconds. */
  revokedAt: number
}

/** What `admitUpgrade` found: the upgrade's number in its window, the window's milliseconds left, and whether a slot was taken. */
export interface UpgradeAdmission {
  count: number
  resetInMs: number
  slot: boolean
}
