import { createHash, randomBytes } from 'node:crypto'
import { type Identity, identityFromClaims } from './identity.js'
import type { Store } from './store/store.js'

/** 256 random bits, base64url: 43 characters. Anything else is refused without a store lookup. */
const TICKET_BYTES = 32
const TICKET_FORMAT = /^[A-Za-z0-9_-]{43}$/

export interface IssuedTicket {
  ticket: string
  /** Epoch milliseconds. */
  expiresAt: number
}

/**
 * Single-use WebSocket tickets, so a browser never has to put its JWT in a URL. A ticket stands
 * for the identity of the token it was issued for, in the shared store, so any instance accepts
 * it exactly once. The store key is a hash of the ticket: whoever reads the store cannot use
 * what they read.
 */
export class Tickets {
  constructor (private readonly store: Store, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  async issue (identity: Identity): Promise<IssuedTicket> {
    const ticket = randomBytes(TICKET_BYTES).toString('base64url')
    const now = this.now()
    // A ticket never outlives the token it stands for.
    const expiresAt = Math.min(now + this.ttlMs, identity.expiresAt ?? Infinity)
    await this.store.put(keyOf(ticket), JSON.stringify(claimsOf(identity)), Math.max(1, expiresAt - now))
    return { ticket, expiresAt }
  }

  /** The identity the ticket stands for, once; undefined for a used, expired or forged ticket. */
  async redeem (ticket: string): Promise<Identity | undefined> {
    if (!TICKET_FORMAT.test(ticket)) return undefined
    const stored = await this.store.take(keyOf(ticket))
    if (stored === null) return undefined
    const identity = identityFromClaims(JSON.parse(stored) as Record<string, unknown>)
    if (typeof identity === 'string' || (identity.expiresAt !== undefined && identity.expiresAt <= this.now())) return undefined
    return identity
  }
}

function keyOf (ticket: string): string {
  return `ticket:${createHash('sha256').update(ticket).digest('hex')}`
}

/** Stored as the claims it was read from, so redeeming validates it the way a token is. */
function claimsOf (identity: Identity): Record<string, unknown> {
  return {
    sub: identity.userId,
    sid: identity.sessionId,
    roles: identity.roles,
    permissions: identity.permissions,
    jti: identity.tokenId,
    exp: identity.expiresAt === undefined ? undefined : identity.expiresAt / 1000,
    iat: identity.issuedAt === undefined ? undefined : identity.issuedAt / 1000,
    groups: identity.groups,
    rooms: Object.fromEntries(identity.rooms)
  }
}
