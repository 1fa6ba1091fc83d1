import type { RecordedRevocation, Store, UpgradeAdmission } from './store.js'

interface Entry { value: string, expiresAt: number }

/** How often expired entries are swept, so keys from many clients do not pile up. */
const SWEEP_INTERVAL_MS = 10_000

export class MemoryStore implements Store {
  private readonly values = new Map<string, Entry>()
  private readonly slots = new Map<string, Map<string, number>>()
  /** Revocation rules by their `revokedAt`: this process is the only instance, so nobody else is told. */
  private readonly revocations = new Map<string, number>()
  private readonly timer: NodeJS.Timeout

  constructor (private readonly now: () => number = Date.now) {
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS)
    this.timer.unref()
  }

  async increment (key: string, ttlMs: number): Promise<number> {
    const entry = this.live(key)
    const count = entry === undefined ? 1 : Number(entry.value) + 1
    this.values.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? this.now() + ttlMs })
    return count
  }

  async put (key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, expiresAt: this.now() + ttlMs })
  }

  async claim (key: string, ttlMs: number): Promise<boolean> {
    if (this.live(key) !== undefined) return false
    this.values.set(key, { value: '1', expiresAt: this.now() + ttlMs })
    return true
  }

  async get (key: string): Promise<string | null> {
    return this.live(key)?.value ?? null
  }

  async take (key: string): Promise<string | null> {
    const value = this.live(key)?.value ?? null
    this.values.delete(key)
    return value
  }

  async ttl (key: string): Promise<number> {
    const entry = this.live(key)
    return entry === undefined ? 0 : entry.expiresAt - this.now()
  }

  async acquireSlot (key: string, member: string, limit: number, ttlMs: number): Promise<boolean> {
    const members = this.liveSlots(key)
    if (!members.has(member) && members.size >= limit) return false
    members.set(member, this.now() + ttlMs)
    this.slots.set(key, members)
    return true
  }

  async refreshSlots (slots: ReadonlyArray<{ key: string, member: string }>, ttlMs: number): Promise<void> {
    for (const { key, member } of slots) {
      const members = this.liveSlots(key)
      members.set(member, this.now() + ttlMs)
      this.slots.set(key, members)
    }
  }

  async releaseSlot (key: string, member: string): Promise<void> {
    const members = this.slots.get(key)
    members?.delete(member)
    if (members?.size === 0) this.slots.delete(key)
  }

  async admitUpgrade (count: { key: string, windowMs: number, max: number }, slot: { key: string, member: string, limit: number, ttlMs: number }): Promise<UpgradeAdmission> {
    const counted = await this.increment(count.key, count.windowMs)
    const resetInMs = await this.ttl(count.key)
    if (counted > count.max) return { count: counted, resetInMs, slot: false }
    return { count: counted, resetInMs, slot: await this.acquireSlot(slot.key, slot.member, slot.limit, slot.ttlMs) }
  }

  async recordRevocation (rule: string, revokedAt: number, ttlMs: number): Promise<void> {
    this.dropRevocationsBefore(this.now() - ttlMs)
    this.revocations.set(rule, Math.max(revokedAt, this.revocations.get(rule) ?? 0))
  }

  async revocationList (ttlMs: number, limit: number): Promise<RecordedRevocation[]> {
    this.dropRevocationsBefore(this.now() - ttlMs)
    return Array.from(this.revocations, ([rule, revokedAt]) => ({ rule, revokedAt }))
      .sort((a, b) => a.revokedAt - b.revokedAt)
      .slice(0, limit)
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
  }

  private live (key: string): Entry | undefined {
    const entry = this.values.get(key)
    if (entry === undefined || entry.expiresAt > this.now()) return entry
    this.values.delete(key)
    return undefined
  }

  private liveSlots (key: string): Map<string, number> {
    const members = this.slots.get(key) ?? new Map<string, number>()
    const now = this.now()
    for (const [member, expiresAt] of members) if (expiresAt <= now) members.delete(member)
    return members
  }

  private dropRevocationsBefore (oldest: number): void {
    for (const [rule, revokedAt] of this.revocations) if (revokedAt <= oldest) this.revocations.delete(rule)
  }

  private sweep (): void {
    const now = this.now()
    for (const [key, entry] of this.values) if (entry.expiresAt <= now) this.values.delete(key)
    for (const key of this.slots.keys()) if (this.liveSlots(key).size === 0) this.slots.delete(key)
  }
}
