import type { EventInput, GatewayEvent } from './events.js'
import { canPublish, type Identity, isAdmin } from './identity.js'
import type { Log } from './logging.js'
import type { RecordedRevocation, Store } from './store/store.js'

/** What is revoked: one token (its `jti`), one session, or every token of a user issued before the revocation. */
export type RevocationTarget = { tokenId: string } | { sessionId: string, userId?: string | undefined } | { userId: string }

/**
 * A revocation. With `tokenId` it covers that token alone; else with `sessionId` that session,
 * and `userId`, when known, only addresses the event; else the user's tokens issued before
 * `revokedAt`.
 */
export interface Revocation {
  tokenId?: string | undefined
  sessionId?: string | undefined
  userId?: string | undefined
  /** Epoch milliseconds. */
  revokedAt: number
  /** The `sub` of the admin or service token that revoked. */
  by: string
}

type Rule = Pick<Revocation, 'tokenId' | 'sessionId' | 'userId' | 'revokedAt'>

/** The close reason and HTTP message of a token a revocation covers. */
export type RevokedReason = 'session_revoked' | 'token_revoked'

/** Why a revocation check refuses a token: the close reason and HTTP message that carry it. */
export type RevocationRefusal =
  | { reason: RevokedReason, detail: string }
  | { reason: 'revocation_unavailable', detail: string }

const REVOKED: RevocationRefusal = { reason: 'session_revoked', detail: 'a revocation covers this token' }
const TOKEN_REVOKED: RevocationRefusal = { reason: 'token_revoked', detail: 'this token was revoked' }
const UNAVAILABLE: RevocationRefusal = { reason: 'revocation_unavailable', detail: 'revocations cannot be read: the store is unreachable' }

/**
 * Revocations one instance remembers at most. Each costs a few hundred bytes, so the cap holds
 * them to a few MB; past it the oldest is forgotten first (the store still has it while it is up).
 */
export const MAX_REMEMBERED = 10_000

/**
 * Whether the revocations an instance remembers are every revocation there is: true while the
 * store is this process (embedded) and, on Redis, while the feed that keeps them is subscribed and
 * loaded (src/revocation-feed.ts). Then an authentication reads nothing from the store.
 */
export interface RevocationView {
  readonly current: boolean
}

/** The view of an instance whose store is its own memory: every revocation goes through it. */
export const OWN_VIEW: RevocationView = { current: true }

export function covers (rule: Rule, identity: Identity): boolean {
  if (rule.tokenId !== undefined) return identity.tokenId === rule.tokenId
  if (rule.sessionId !== undefined) return identity.sessionId === rule.sessionId
  // `iat` has whole seconds, so a token issued in the second of the revocation counts as before it.
  return identity.userId === rule.userId && (identity.issuedAt === undefined || identity.issuedAt < rule.revokedAt)
}

/** How the sockets a revocation covers are closed: `token_revoked` for one token, else `session_revoked`. */
export function revokedReason (rule: Pick<Revocation, 'tokenId'>): RevokedReason {
  return rule.tokenId === undefined ? 'session_revoked' : 'token_revoked'
}

/**
 * Whose tokens are refused while revocations cannot be read: admins and publishers (services,
 * `events:publish`). A stolen one is worth the most and they are few, so an outage locks out
 * operators and backends rather than every user.
 */
function failsClosed (identity: Identity): boolean {
  return isAdmin(identity) || canPublish(identity)
}

/**
 * Revocations in the shared store, for REVOCATION_TTL: `revoked:token:<jti>`,
 * `revoked:session:<id>` and `revoked:user:<id>`, each holding `revokedAt`. A token cannot outlive its `exp`, so the TTL
 * needs to be no longer than the longest token lifetime.
 *
 * Each instance also remembers the revocations it has applied (from the control events), for
 * REVOCATION_TTL too: they keep being enforced while the store is unreachable or after it lost
 * its data, and an upgrade that passed its store check just before the revocation was written
 * is refused when it reaches its session just after the sockets were closed.
 *
 * Every revocation is also recorded in one list in the store, announced to every instance
 * (`Store.recordRevocation`). While an instance's view of that list is current (`watchedBy`) it
 * remembers every live revocation, and an authentication reads nothing from the store: a
 * connect costs no round trip for its revocations. While it is not (Redis unreachable, a feed
 * reloading, more revocations than MAX_REMEMBERED), the store is read as above.
 */
export class Revocations {
  private readonly recent = new Map<string, { revokedAt: number, until: number }>()
  /** While reads fail, so an outage is logged once rather than once per authentication. */
  private unreadable = false
  private unchecked = 0
  /** A live revocation was forgotten to hold MAX_REMEMBERED: `recent` is no longer whole until a load that fits. */
  private overflowed = false
  private view: RevocationView | undefined

  constructor (private readonly store: Store, private readonly ttlMs: number, private readonly log: Log, private readonly now: () => number = Date.now) {}

  /** Lets authentications trust `recent` alone while `view` is current. */
  watchedBy (view: RevocationView): void {
    this.view = view
  }

  /** Whether an authentication is decided by this instance's memory, without reading the store. */
  get local (): boolean {
    return this.view?.current === true && !this.overflowed
  }

  /** Authentications whose revocations could not be read (store unreachable), accepted or refused. */
  get uncheckedCount (): number {
    return this.unchecked
  }

  async revoke (target: RevocationTarget, by: string): Promise<Revocation> {
    const revocation: Revocation = { ...target, revokedAt: this.now(), by }
    const rule = ruleKey(revocation)
    await this.store.put(`revoked:${rule}`, String(revocation.revokedAt), this.ttlMs)
    await this.store.recordRevocation(rule, revocation.revokedAt, this.ttlMs)
    this.note(rule, revocation.revokedAt)
    return revocation
  }

  /**
   * Why `identity` is refused, or undefined when it is not. While the store is unreachable the
   * revocations this instance remembers still count; beyond them admin and publishing tokens
   * are refused, and users' tokens accepted: failing closed for everyone would turn an outage
   * the gateway otherwise serves through into a lock-out.
   */
  async refusal (identity: Identity): Promise<RevocationRefusal | undefined> {
    const applied = this.appliedTo(identity)
    if (applied !== undefined) return applied === 'token_revoked' ? TOKEN_REVOKED : REVOKED
    if (this.local) return undefined
    const { tokenId, sessionId, userId } = identity
    try {
      const [token, session, user] = await Promise.all([
        tokenId === undefined ? null : this.store.get(`revoked:${ruleKey({ tokenId })}`),
        sessionId === undefined ? null : this.store.get(`revoked:${ruleKey({ sessionId })}`),
        this.store.get(`revoked:${ruleKey({ userId })}`)
      ])
      this.readable()
      if (session !== null || (user !== null && covers({ userId, revokedAt: Number(user) }, identity))) return REVOKED
      return token === null ? undefined : TOKEN_REVOKED
    } catch (err) {
      if (!this.unreadable) this.log.warn({ err }, 'revocations unreadable (store unreachable): admin and publishing tokens are refused, users\' tokens accepted, until it is back')
      this.unreadable = true
      this.unchecked++
      return failsClosed(identity) ? UNAVAILABLE : undefined
    }
  }

  /** Notes a revocation this instance has applied, for REVOCATION_TTL from `revokedAt`. */
  remember (revocation: Revocation): void {
    this.note(ruleKey(revocation), revocation.revokedAt)
  }

  /**
   * Takes in the revocations the store holds, oldest first, as the feed loads them. The view is
   * whole again unless there are more than this instance remembers.
   */
  load (list: readonly RecordedRevocation[]): void {
    this.readable()
    this.overflowed = false
    for (const { rule, revokedAt } of list) this.note(rule, revokedAt)
    if (list.length > MAX_REMEMBERED) this.overflowed = true
  }

  /** The store answered: an outage logged as begun is logged as over, once. */
  private readable (): void {
    if (this.unreadable) this.log.info('revocations readable again')
    this.unreadable = false
  }

  /** Notes the revocation of `rule` (`token:<jti>`, `session:<id>`, `user:<id>`), for REVOCATION_TTL from `revokedAt`. */
  note (rule: string, revokedAt: number): void {
    const latest = Math.max(revokedAt, this.recent.get(rule)?.revokedAt ?? 0)
    this.recent.delete(rule)
    const now = this.now()
    // Every entry lives as long, and they arrive about in revocation order: the expired ones
    // and the oldest are at the front.
    for (const [oldest, { until }] of this.recent) {
      if (until > now && this.recent.size < MAX_REMEMBERED) break
      if (until > now) this.overflowed = true
      this.recent.delete(oldest)
    }
    this.recent.set(rule, { revokedAt: latest, until: latest + this.ttlMs })
  }

  /** Why a revocation this instance applied within REVOCATION_TTL covers `identity`, or undefined when none does. */
  appliedTo (identity: Identity): RevokedReason | undefined {
    const now = this.now()
    const { tokenId, sessionId, userId } = identity
    const session = sessionId === undefined ? undefined : this.recent.get(ruleKey({ sessionId }))
    if (session !== undefined && session.until > now) return 'session_revoked'
    const user = this.recent.get(ruleKey({ userId }))
    if (user !== undefined && user.until > now && covers({ userId, revokedAt: user.revokedAt }, identity)) return 'session_revoked'
    const token = tokenId === undefined ? undefined : this.recent.get(ruleKey({ tokenId }))
    return token !== undefined && token.until > now ? 'token_revoked' : undefined
  }
}

function ruleKey (rule: Pick<Revocation, 'tokenId' | 'sessionId' | 'userId'>): string {
  if (rule.tokenId !== undefined) return `token:${rule.tokenId}`
  return rule.sessionId === undefined ? `user:${rule.userId ?? ''}` : `session:${rule.sessionId}`
}

/**
 * The `session.revoked` event: addressed to the user when known, so their own dashboards see
 * it, else to admins alone (without `userId` it would be a broadcast). `control` makes every
 * instance close the sockets it covers; one without a user goes to the partition every
 * instance reads, which is how a token's revocation reaches the instance holding its sockets.
 */
export function revocationEvent (revocation: Revocation): EventInput {
  const { tokenId, sessionId, userId, revokedAt, by } = revocation
  return {
    type: 'session.revoked',
    control: 'revocation',
    ...(userId === undefined ? { audience: 'admin' as const } : { userId }),
    ...(sessionId === undefined ? {} : { sessionId }),
    data: {
      ...(tokenId === undefined ? {} : { tokenId }),
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
  const { tokenId, sessionId, userId, revokedAt, by } = event.data
  const at = typeof revokedAt === 'string' ? Date.parse(revokedAt) : Number.NaN
  if (!Number.isFinite(at) || typeof by !== 'string') return undefined
  if (!optionalString(tokenId) || !optionalString(sessionId) || !optionalString(userId)) return undefined
  if (tokenId === undefined && sessionId === undefined && userId === undefined) return undefined
  return { ...(tokenId === undefined ? {} : { tokenId }), sessionId, userId, revokedAt: at, by }
}

function optionalString (value: unknown): value is string | undefined {
  return value === undefined || (typeof value === 'string' && value !== '')
}
