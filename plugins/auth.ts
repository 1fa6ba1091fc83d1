import fastifyJwt from '@fastify/jwt'
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { CloseCode, GatewayError, type Refusal } from '../src/errors.js'
import { type Identity, identityFromClaims } from '../src/identity.js'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Record<string, unknown>
    user: Identity
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** HTTP routes: 401 without a valid token. */
    authenticate: preValidationAsyncHookHandler
    /** WebSocket routes: never fails the upgrade; records why the socket is to be refused. */
    authenticateSocket: preValidationAsyncHookHandler
    /** WebSocket routes, after authenticateSocket: refuses with 4003 unless `allowed`. */
    authorizeSocket: (allowed: (identity: Identity) => boolean, reason: string) => preValidationAsyncHookHandler
    /** HTTP routes, after authenticate: 403 unless `allowed`. */
    authorize: (allowed: (identity: Identity) => boolean, message: string) => preValidationAsyncHookHandler
    /**
     * The one verification of a JWT, as at connect: signature, pinned algorithm, claims,
     * revocation. Resolves with the identity or the refusal reason; sessions use it to reauthenticate.
     */
    verifyToken: (token: string) => Promise<Identity | string>
  }
  interface FastifyRequest {
    refusal: Refusal | undefined
  }
}

/** Far above any real token; refusing longer ones early keeps parsing cheap. */
const MAX_TOKEN_LENGTH = 8192

type Reason = 'token_missing' | 'token_invalid' | 'token_expired' | 'ticket_invalid' | 'session_revoked' | 'revocation_unavailable'
/** A refusal names its user when the token was valid but is revoked. */
type Verdict = { identity: Identity } | { reason: Reason, detail: string, userId?: string, sessionId?: string | undefined }

export default fp(async function authPlugin (app) {
  const { jwt } = app.config
  await app.register(fastifyJwt, {
    secret: jwt.algorithm === 'HS256' ? jwt.key : { public: jwt.key },
    verify: {
      // Pinned to the configured key's algorithm: no `none`, no HS256 signed with a public key.
      algorithms: [jwt.algorithm],
      ...(jwt.issuer === undefined ? {} : { allowedIss: jwt.issuer }),
      ...(jwt.audience === undefined ? {} : { allowedAud: jwt.audience }),
      cache: true
    }
  })
  app.decorateRequest('refusal', undefined)
  if (jwt.development) {
    app.log.warn('no JWT_SECRET or JWT_PUBLIC_KEY: using the public development key; mint tokens with `npm run token`')
  }

  /** What the request carries, verified; a ticket counts on WebSocket upgrades only. */
  async function verdict (request: FastifyRequest, acceptTicket: boolean): Promise<Verdict> {
    const found = tokenFrom(request, acceptTicket)
    if (found === undefined) return { reason: 'token_missing', detail: 'no token in header, cookie or query' }
    const result = found.source === 'ticket' ? await redeem(found.token) : verify(found.token)
    return 'identity' in result ? await unlessRevoked(result.identity) : result
  }

  async function redeem (ticket: string): Promise<Verdict> {
    try {
      const identity = await app.tickets.redeem(ticket)
      return identity === undefined ? { reason: 'ticket_invalid', detail: 'unknown, used or expired ticket' } : { identity }
    } catch (err) {
      app.log.warn({ err }, 'ticket not redeemed: store failed')
      return { reason: 'ticket_invalid', detail: 'store failed' }
    }
  }

  async function unlessRevoked (identity: Identity): Promise<Verdict> {
    const refusal = await app.revocations.refusal(identity)
    return refusal === undefined ? { identity } : { ...refusal, userId: identity.userId, sessionId: identity.sessionId }
  }

  function verify (token: string): Verdict {
    if (token.length > MAX_TOKEN_LENGTH) return { reason: 'token_invalid', detail: 'token too long' }
    let claims: Record<string, unknown>
    try {
      claims = app.jwt.verify<Record<string, unknown>>(token)
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unknown'
      return { reason: code === 'FAST_JWT_EXPIRED' ? 'token_expired' : 'token_invalid', detail: code }
    }
    const identity = identityFromClaims(claims)
    return typeof identity === 'string' ? { reason: 'token_invalid', detail: identity } : { identity }
  }

  function audit (request: FastifyRequest, result: Verdict): Identity | undefined {
    const base = { route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] }
    if ('identity' in result) {
      const { userId, sessionId } = result.identity
      app.security.report('security.auth.succeeded', { ...base, reason: 'valid_token', userId, sessionId })
      return result.identity
    }
    const { reason, detail, userId, sessionId } = result
    app.security.report('security.auth.failed', { ...base, reason, detail, userId, sessionId })
    app.recordAuthFailure(request.ip)
    return undefined
  }

  app.decorate('verifyToken', async function verifyToken (token: string) {
    const plain = verify(token)
    const result = 'identity' in plain ? await unlessRevoked(plain.identity) : plain
    return 'identity' in result ? result.identity : result.reason
  })

  app.decorate('authenticate', async function authenticate (request: FastifyRequest) {
    const result = await verdict(request, false)
    const identity = audit(request, result)
    if (identity === undefined) throw new GatewayError('EVENTGATE_UNAUTHORIZED', 'reason' in result ? result.reason : 'unauthorized')
    request.user = identity
  })

  app.decorate('authenticateSocket', async function authenticateSocket (request: FastifyRequest) {
    const result = await verdict(request, true)
    const identity = audit(request, result)
    if (identity === undefined) request.refusal = { code: CloseCode.UNAUTHORIZED, reason: 'reason' in result ? result.reason : 'unauthorized' }
    else request.user = identity
  })

  app.decorate('authorize', (allowed: (identity: Identity) => boolean, message: string) =>
    async function authorize (request: FastifyRequest) {
      if (!allowed(request.user)) throw new GatewayError('EVENTGATE_FORBIDDEN', message)
    })

  app.decorate('authorizeSocket', (allowed: (identity: Identity) => boolean, reason: string) =>
    async function authorizeSocket (request: FastifyRequest) {
      if (request.refusal !== undefined || allowed(request.user)) return
      app.security.report('security.auth.failed', { reason, userId: request.user.userId, route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] })
      request.refusal = { code: CloseCode.FORBIDDEN, reason }
    })
}, { name: 'auth', dependencies: ['config', 'security', 'auth-failures', 'tickets', 'revocations'] })

/**
 * The token, from the first source that has one: Authorization header, cookie, then on
 * WebSocket upgrades a `ticket` query parameter, then the `token` query parameter.
 */
function tokenFrom (request: FastifyRequest, acceptTicket: boolean): { token: string, source: 'header' | 'cookie' | 'ticket' | 'query' } | undefined {
  const header = request.headers.authorization
  if (header !== undefined && /^Bearer\s+\S/i.test(header)) return { token: header.replace(/^Bearer\s+/i, '').trim(), source: 'header' }
  const cookie = cookieValue(request.headers.cookie, 'access_token')
  if (cookie !== undefined) return { token: cookie, source: 'cookie' }
  const { token, ticket } = (request.query ?? {}) as Record<string, unknown>
  if (acceptTicket && typeof ticket === 'string' && ticket !== '') return { token: ticket, source: 'ticket' }
  if (typeof token === 'string' && token !== '') return { token, source: 'query' }
  return undefined
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
