import type { EventInput, GatewayEvent } from './events.js'
import type { Identity } from './identity.js'
import type { Log } from './logging.js'
import type { Store } from './store/store.js'

/** What is revoked: one session, or every token of a user issued before the revocation. */
export type RevocationTarget = { sessionId: string, userId?: string | undefined } | { userId: string }

/**
 * A revocation. With `sessionId` it covers that session, and `userId`, when known, only
 * addresses the event; without, it covers the user's tokens issued before `revokedAt`.
 */
export interface Revocation {
  sessionId?: string | undefined
  userId?: string | undefined
  /** Epoch milliseconds. */
  revokedAt: number
  /** The `sub` of the admin or service token that revoked. */
  by: string
}

type Rule = Pick<Revocation, 'sessionId' | 'userId' | 'revokedAt'>

/**
 * How long after a revocation an instance remembers it, to refuse an upgrade that passed its
 * store check just before the revocation was written and reaches its session just after the
 * sockets were closed. Far longer than the store round trips between the two.
 */
const RECENT_MS = 10_000

export function covers (rule: Rule, identity: Identity): boolean {
  if (rule.sessionId !== undefined) return identity.sessionId === rule.sessionId
  // `iat` has whole seconds, so a token issued in the second of the revocation counts as before it.
  return identity.userId === rule.userId && (identity.issuedAt === undefined || identity.issuedAt < rule.revokedAt)
}

/**
 * Revocations in the shared store, for REVOCATION_TTL: `revoked:session:<id>` and
 * `revoked:user:<id>`, each holding `revokedAt`. A token cannot outlive its `exp`, so the TTL
 * needs to be no longer than the longest token lifetime.
 */
export class Revocations {
  private readonly recent = new Map<string, { revokedAt: number, until: number }>()
  private readonly recentMs: number
  /** While reads fail, so an outage is logged once rather than once per authentication. */
  private unreadable = false

  constructor (private readonly store: Store, private readonly ttlMs: number, private readonly log: Log, private readonly now: () => number = Date.now) {
    // Never longer than the store keeps it: counted from `revokedAt`, so it lapses first.
    this.recentMs = Math.min(RECENT_MS, ttlMs)
  }

  async revoke (target: RevocationTarget, by: string): Promise<Revocation> {
    const revocation: Revocation = { ...target, revokedAt: this.now(), by }
    await this.store.put(`revoked:${ruleKey(revocation)}`, String(revocation.revokedAt), this.ttlMs)
    return revocation
  }

  /**
   * Whether a revocation covers `identity`. While the store is unreachable only the revocations
   * this instance applied lately count: failing closed would refuse every user during an
   * outage, as the gateway otherwise keeps serving.
   */
  async isRevoked (identity: Identity): Promise<boolean> {
    if (this.appliedTo(identity)) return true
    const { sessionId, userId } = identity
    try {
      const [session, user] = await Promise.all([
        sessionId === undefined ? null : this.store.get(`revoked:${ruleKey({ sessionId })}`),
        this.store.get(`revoked:${ruleKey({ userId })}`)
      ])
      this.unreadable = false
      return session !== null || (user !== null && covers({ userId, revokedAt: Number(user) }, identity))
    } catch (err) {
      if (!this.unreadable) this.log.warn({ err }, 'revocations unreadable (store unreachable): tokens are accepted until it is back')
      this.unreadable = true
      return false
    }
  }

  /** Notes a revocation this instance has just applied (see RECENT_MS). */
  remember (revocation: Revocation): void {
    const now = this.now()
    // Entries arrive about in revocation order, so the expired ones are at the front.
    for (const [key, { until }] of this.recent) {
      if (until > now) break
      this.recent.delete(key)
    }
    const key = ruleKey(revocation)
    const revokedAt = Math.max(revocation.revokedAt, this.recent.get(key)?.revokedAt ?? 0)
    this.recent.delete(key)
    this.recent.set(key, { revokedAt, until: revokedAt + this.recentMs })
  }

  /** Whether a revocation this instance applied in the last seconds covers `identity`. */
  appliedTo (identity: Identity): boolean {
    const now = this.now()
    const { sessionId, userId } = identity
    const session = sessionId === undefined ? undefined : this.recent.get(ruleKey({ sessionId }))
    if (session !== undefined && session.until > now) return true
    const user = this.recent.get(ruleKey({ userId }))
    return user !== undefined && user.until > now && covers({ userId, revokedAt: user.revokedAt }, identity)
  }
}

function ruleKey (rule: Pick<Revocation, 'sessionId' | 'userId'>): string {
  return rule.sessionId === undefined ? `user:${rule.userId ?? ''}` : `session:${rule.sessionId}`
}

/**
 * The `session.revoked` event: addressed to the user when known, so their own dashboards see
 * it, else to admins alone (without `userId` it would be a broadcast). `control` makes every
 * instance close the sockets it covers.
 */
export function revocationEvent (revocation: Revocation): EventInput {
  const { sessionId, userId, revokedAt, by } = revocation
  return {
    type: 'session.revoked',
    control: 'revocation',
    ...(userId === undefined ? { audience: 'admin' as const } : { userId }),
    ...(sessionId === undefined ? {} : { sessionId }),
    data: {
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(userId === undefined ? {} : { userId }),
      revokedAt: new Date(revokedAt).toISOString(),
      by
    }
  }
}

/** The revocation a control event carries, or undefined when it carries none. */
export function revocationFrom (event: GatewayEvent): Revocation | undefined {
  if (event.control !== 'revocation') return undefined
  const { sessionId, userId, revokedAt, by } = event.data
  const at = typeof revokedAt === 'string' ? Date.parse(revokedAt) : Number.NaN
  if (!Number.isFinite(at) || typeof by !== 'string') return undefined
  if (!optionalString(sessionId) || !optionalString(userId) || (sessionId === undefined && userId === undefined)) return undefined
  return { sessionId, userId, revokedAt: at, by }
}

function optionalString (value: unknown): value is string | undefined {
  return value === undefined || (typeof value === 'string' && value !== '')
}
