import type { Connection } from './connection.js'
import type { Log } from './logging.js'
import type { Store } from './store/store.js'

const slotKey = (userId: string): string => `slots:${userId}`
const upgradesKey = (userId: string): string => `upgrades:${userId}`

/** RATE_LIMIT_UPGRADES: a user's upgrades per window, on every instance together. */
export interface UpgradeBudget {
  max: number
  windowMs: number
}

/** A slot taken, all slots held, or the user's upgrade budget spent until `retryInMs` from now. */
export type SlotGrant = 'granted' | 'full' | { retryInMs: number }

/**
 * Per-user connection slots in the shared store, so MAX_CONNECTIONS_PER_USER holds across
 * instances. A slot lives `ttlMs` unless refreshed; the owning instance refreshes its live
 * connections' slots, so those of an instance that dies free themselves. While the store is
 * unreachable, this instance's own count decides.
 */
export class ConnectionSlots {
  constructor (
    private readonly store: Store,
    private readonly limit: number,
    private readonly ttlMs: number,
    private readonly localCount: (userId: string) => number,
    private readonly log: Log,
    private readonly budget: UpgradeBudget = { max: Number.POSITIVE_INFINITY, windowMs: 60_000 }
  ) {}

  /**
   * An upgrade's admission in one store call: counts it against the user's budget and, within
   * it, takes a slot. While the store is unreachable upgrades are not counted (as no limit is
   * enforced then) and this instance's own count decides the slot.
   */
  async admitUpgrade (userId: string, connectionId: string): Promise<SlotGrant> {
    const { max, windowMs } = this.budget
    try {
      const admission = await this.store.admitUpgrade({ key: upgradesKey(userId), windowMs, max }, { key: slotKey(userId), member: connectionId, limit: this.limit, ttlMs: this.ttlMs })
      if (admission.count > max) return { retryInMs: admission.resetInMs }
      return admission.slot ? 'granted' : 'full'
    } catch (err) {
      this.log.warn({ err, userId }, 'connection slots unavailable; counting this instance only')
      return this.localCount(userId) < this.limit ? 'granted' : 'full'
    }
  }

  async acquire (userId: string, connectionId: string): Promise<boolean> {
    try {
      return await this.store.acquireSlot(slotKey(userId), connectionId, this.limit, this.ttlMs)
    } catch (err) {
      this.log.warn({ err, userId }, 'connection slots unavailable; counting this instance only')
      return this.localCount(userId) < this.limit
    }
  }

  release (userId: string, connectionId: string): void {
    this.store.releaseSlot(slotKey(userId), connectionId).catch((err: unknown) => {
      this.log.debug({ err, userId }, 'slot not released; it expires on its own')
    })
  }

  /** Re-asserts every live connection's slot, also re-adding those a restarted Redis lost. */
  refresh (connections: Iterable<Connection>): void {
    const slots = Array.from(connections, (c) => ({ key: slotKey(c.identity.userId), member: c.id }))
    this.store.refreshSlots(slots, this.ttlMs).catch((err: unknown) => {
      this.log.debug({ err }, 'slots not refreshed')
    })
  }
}
