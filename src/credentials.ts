import { CloseCode, GatewayError, type Refusal } from './errors.js'
import { type Identity, identityFromClaims } from './identity.js'
import type { Log } from './logging.js'
import type { RevocationRefusal, Revocations } from './revocations.js'
import type { Tickets } from './tickets.js'

/** Where a request's token came from. */
export type CredentialSource = 'header' | 'cookie' | 'ticket' | 'query'

/** Where a credential is verified: an HTTP request, a WebSocket upgrade, or a token sent on an open socket. */
export type AuthenticationVia = 'http' | 'upgrade' | 'reauthenticate'

export interface Credential {
  token: string
  source: CredentialSource
}

/** What a request carries that may hold a credential, as it arrived. */
export interface CredentialCarrier {
  authorization: string | undefined
  cookie: string | undefined
  /** The request target: path, query and anything a hand-made client sent after `#`. */
  url: string
}

/**
 * The cookies that may carry the token, in order: `accessToken` is the name the design documents
 * use, and when a browser holds both (two apps on one domain), `access_token` wins, as it did
 * before the alias was read.
 */
const TOKEN_COOKIES = ['access_token', 'accessToken'] as const

/**
 * The token, from the first source that has one: the Authorization header, then on WebSocket
 * upgrades the `access_token` (or `accessToken`) cookie and the `ticket` query parameter, then
 * the `token` query parameter.
 *
 * The cookie counts on upgrades only, where the origin check runs first: any site can make a
 * browser POST with it (cross-site request forgery). A token after `#` never counts: browsers
 * never send the fragment, so only a hand-made client puts one there, and whatever follows `#`
 * is no query, whatever the router makes of it.
 */
export function credentialFrom (carrier: CredentialCarrier, upgrade: boolean): Credential | undefined {
  const header = bearerToken(carrier.authorization)
  if (header !== undefined) return { token: header, source: 'header' }
  if (upgrade) {
    for (const name of TOKEN_COOKIES) {
      const cookie = cookieValue(carrier.cookie, name)
      if (cookie !== undefined) return { token: cookie, source: 'cookie' }
    }
  }
  const query = queryOf(carrier.url)
  if (query === undefined) return undefined
  const ticket = upgrade ? query.get('ticket') : null
  if (ticket !== null && ticket !== '') return { token: ticket, source: 'ticket' }
  const token = query.get('token')
  if (token !== null && token !== '') return { token, source: 'query' }
  return undefined
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerToken (header: string | undefined): string | undefined {
  if (header === undefined || !/^Bearer\s+\S/i.test(header)) return undefined
  return header.replace(/^Bearer\s+/i, '').trim()
}

/** The query parameters before any `#`; undefined without a query. */
function queryOf (url: string): URLSearchParams | undefined {
  const hash = url.indexOf('#')
  const target = hash === -1 ? url : url.slice(0, hash)
  const start = target.indexOf('?')
  return start === -1 ? undefined : new URLSearchParams(target.slice(start + 1))
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    try {
      return decodeURIComponent(raw) || undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * Whether a refusal counts toward AUTH_FAILURE_LIMIT. A missing credential guesses nothing, and
 * revocations that could not be read (Redis unreachable) are no fault of the sender.
 */
export function countsAsFailure (reason: string): boolean {
  return reason !== 'token_missing' && reason !== 'revocation_unavailable'
}

/** Why a request's credential was refused: the close reason on a socket, the message over HTTP. */
export type AuthFailure = 'token_missing' | 'token_invalid' | 'token_expired' | 'ticket_invalid' | RevocationRefusal['reason']

/** A verified identity, or why there is none; a refusal names its user when the token was valid but is revoked. */
export type Verdict = { identity: Identity } | { reason: AuthFailure, detail: string, userId?: string, sessionId?: string | undefined }

/** What verifying a credential asks of the instance. */
export interface CredentialChecks {
  /**
   * The claims of a JWT whose signature, pinned algorithm, issuer, audience and dates hold;
   * throws otherwise, with fast-jwt's `code` (`FAST_JWT_EXPIRED`, …).
   */
  claims: (token: string) => Record<string, unknown>
  tickets: Pick<Tickets, 'redeem'>
  revocations: Pick<Revocations, 'refusal'>
  log: Log
}

/** Far above any real token; refusing longer ones early keeps parsing cheap. */
const MAX_TOKEN_LENGTH = 8192

/** Verifies the credential a request carries, as an upgrade, an HTTP request or a `reauthenticate` needs it. */
export class Credentials {
  constructor (private readonly checks: CredentialChecks) {}

  /** What the request carries, verified; a cookie or a ticket counts on WebSocket upgrades only. */
  async verdict (carrier: CredentialCarrier, upgrade: boolean): Promise<Verdict> {
    const found = credentialFrom(carrier, upgrade)
    if (found === undefined) return { reason: 'token_missing', detail: upgrade ? 'no token in header, cookie or query' : 'no token in header or query' }
    if (found.source !== 'ticket') return await this.token(found.token)
    const redeemed = await this.redeem(found.token)
    return 'identity' in redeemed ? await this.unlessRevoked(redeemed.identity) : redeemed
  }

  /** The one verification of a JWT, as at connect: signature, pinned algorithm, claims, revocation. */
  async token (token: string): Promise<Verdict> {
    const verified = this.verify(token)
    return 'identity' in verified ? await this.unlessRevoked(verified.identity) : verified
  }

  private verify (token: string): Verdict {
    if (token.length > MAX_TOKEN_LENGTH) return { reason: 'token_invalid', detail: 'token too long' }
    let claims: Record<string, unknown>
    try {
      claims = this.checks.claims(token)
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unknown'
      return { reason: code === 'FAST_JWT_EXPIRED' ? 'token_expired' : 'token_invalid', detail: code }
    }
    const identity = identityFromClaims(claims)
    return typeof identity === 'string' ? { reason: 'token_invalid', detail: identity } : { identity }
  }

  private async redeem (ticket: string): Promise<Verdict> {
    try {
      const identity = await this.checks.tickets.redeem(ticket)
      return identity === undefined ? { reason: 'ticket_invalid', detail: 'unknown, used or expired ticket' } : { identity }
    } catch (err) {
      this.checks.log.warn({ err }, 'ticket not redeemed: store failed')
      return { reason: 'ticket_invalid', detail: 'store failed' }
    }
  }

  private async unlessRevoked (identity: Identity): Promise<Verdict> {
    const refusal = await this.checks.revocations.refusal(identity)
    return refusal === undefined ? { identity } : { ...refusal, userId: identity.userId, sessionId: identity.sessionId }
  }
}

/**
 * How a refused upgrade is closed: 1013 while revocations cannot be read (Redis is down, and a
 * retry will pass), else 4001.
 */
export function socketRefusal (reason: AuthFailure): Refusal {
  return { code: reason === 'revocation_unavailable' ? CloseCode.TRY_AGAIN_LATER : CloseCode.UNAUTHORIZED, reason }
}

/** What a client that sees the refusal should do: the reason, in words. */
const REFUSAL_WORDS: Partial<Record<AuthFailure, string>> = {
  token_missing: 'send the token in an Authorization header, e.g. "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.…"',
  token_expired: 'the token\'s exp has passed; get a new token',
  token_invalid: 'the token does not verify against this gateway\'s key, algorithm, issuer or audience, or lacks a string sub'
}

/**
 * How a refused HTTP request is answered: 401, or 503 while revocations cannot be read, which
 * is no fault of the credential (Redis is down, as for a publish, and a retry will pass). The
 * message starts with the reason code, then says it in words; an Authorization header that is
 * there but not `Bearer <token>` is named, since the token in it was never looked at.
 */
export function httpRefusal (reason: AuthFailure, authorization?: string): GatewayError {
  if (reason === 'revocation_unavailable') return new GatewayError('EVENTGATE_BUS_UNAVAILABLE', 'revocation_unavailable: revocations cannot be checked while Redis is unreachable; retry later')
  const notBearer = reason === 'token_missing' && authorization !== undefined && authorization.trim() !== ''
  const words = notBearer
    ? 'the Authorization header must be the word Bearer, a space and the token, e.g. "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.…"'
    : REFUSAL_WORDS[reason]
  return new GatewayError('EVENTGATE_UNAUTHORIZED', words === undefined ? reason : `${reason}: ${words}`)
}
