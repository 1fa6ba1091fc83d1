import type { Connection } from './connection.js'
import type { Log } from './logging.js'
import type { Store } from './store/store.js'

const slotKey = (userId: string): string => `slots:${userId}`

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
    private readonly log: Log
  ) {}

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
