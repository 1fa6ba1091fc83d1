import fastifyJwt from '@fastify/jwt'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { countsAsFailure, credentialFrom } from '../src/credentials.js'
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
    /**
     * HTTP routes, in `onRequest`: 401 without a valid token (429 when the token fails from a
     * blocked address), before any of the body is read.
     */
    authenticate: onRequestAsyncHookHandler
    /**
     * WebSocket routes, in `preValidation` (@fastify/websocket marks upgrades in `onRequest`):
     * records why the socket is to be refused; fails the upgrade 429 only for a token that
     * fails from a blocked address.
     */
    authenticateSocket: preValidationAsyncHookHandler
    /** WebSocket routes, after authenticateSocket: refuses with 4003 unless `allowed`. */
    authorizeSocket: (allowed: (identity: Identity) => boolean, reason: string) => preValidationAsyncHookHandler
    /** HTTP routes, in `onRequest` after authenticate: 403 unless `allowed`, before the body is read. */
    authorize: (allowed: (identity: Identity) => boolean, message: string) => onRequestAsyncHookHandler
    /**
     * The one verification of a JWT, as at connect: signature, pinned algorithm, claims,
     * revocation. Resolves with the identity or the refusal reason; sessions use it to reauthenticate.
     */
    verifyToken: (token: string) => Promise<Identity | string>
    /**
     * Counts a token that failed `reauthenticate` on an open socket against the address its
     * upgrade came from; resolves true when that address is blocked.
     */
    socketAuthFailure: (socket: object) => Promise<boolean>
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

  /** What the request carries, verified; a cookie or a ticket counts on WebSocket upgrades only. */
  async function verdict (request: FastifyRequest, upgrade: boolean): Promise<Verdict> {
    const { authorization, cookie } = request.headers
    const found = credentialFrom({ authorization, cookie, url: request.url }, upgrade)
    if (found === undefined) return { reason: 'token_missing', detail: upgrade ? 'no token in header, cookie or query' : 'no token in header or query' }
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

  /**
   * Audits the outcome. A credential that failed verification counts against the address, and
   * from a blocked address is refused 429 instead; a missing one guesses nothing and does not
   * count. The block is looked at only now: a valid token passes from any address.
   */
  async function settle (request: FastifyRequest, reply: FastifyReply, result: Verdict): Promise<Identity | undefined> {
    const base = { route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] }
    if ('identity' in result) {
      const { userId, sessionId } = result.identity
      app.security.report('security.auth.succeeded', { ...base, reason: 'valid_token', userId, sessionId })
      return result.identity
    }
    const { reason, detail, userId, sessionId } = result
    app.security.report('security.auth.failed', { ...base, reason, detail, userId, sessionId })
    if (countsAsFailure(reason)) await app.refuseAuthFailure(request, reply)
    return undefined
  }

  // The client address of each authenticated upgrade, by its TCP socket, for the failures of
  // later `reauthenticate` requests: the session keeps no request, and behind a trusted proxy
  // the address is X-Forwarded-For's, which only the request knew. Weak: it goes with the socket.
  const upgradeAddresses = new WeakMap<object, string>()

  app.decorate('socketAuthFailure', async function socketAuthFailure (socket: object) {
    // ws keeps the TCP socket it was upgraded on as `_socket`.
    const tcp = (socket as { _socket?: { remoteAddress?: string } })._socket
    const ip = tcp === undefined ? undefined : upgradeAddresses.get(tcp) ?? tcp.remoteAddress
    return ip !== undefined && await app.authFailure(ip) > 0
  })

  app.decorate('verifyToken', async function verifyToken (token: string) {
    const plain = verify(token)
    const result = 'identity' in plain ? await unlessRevoked(plain.identity) : plain
    return 'identity' in result ? result.identity : result.reason
  })

  app.decorate('authenticate', async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const result = await verdict(request, false)
    if (!('identity' in result)) endAfterAnswer(reply)
    const identity = await settle(request, reply, result)
    if (identity !== undefined) {
      request.user = identity
      return
    }
    const reason = 'reason' in result ? result.reason : 'unauthorized'
    // Not the credential's fault: Redis is down, as for a publish, and a retry will pass.
    if (reason === 'revocation_unavailable') throw new GatewayError('EVENTGATE_BUS_UNAVAILABLE', 'revocation_unavailable: revocations cannot be checked while Redis is unreachable; retry later')
    throw new GatewayError('EVENTGATE_UNAUTHORIZED', reason)
  })

  app.decorate('authenticateSocket', async function authenticateSocket (request: FastifyRequest, reply: FastifyReply) {
    const result = await verdict(request, true)
    const identity = await settle(request, reply, result)
    if (identity === undefined) {
      const reason = 'reason' in result ? result.reason : 'unauthorized'
      request.refusal = { code: reason === 'revocation_unavailable' ? CloseCode.TRY_AGAIN_LATER : CloseCode.UNAUTHORIZED, reason }
      return
    }
    request.user = identity
    upgradeAddresses.set(request.raw.socket, request.ip)
  })

  app.decorate('authorize', (allowed: (identity: Identity) => boolean, message: string) =>
    async function authorize (request: FastifyRequest, reply: FastifyReply) {
      if (allowed(request.user)) return
      endAfterAnswer(reply)
      throw new GatewayError('EVENTGATE_FORBIDDEN', message)
    })

  app.decorate('authorizeSocket', (allowed: (identity: Identity) => boolean, reason: string) =>
    async function authorizeSocket (request: FastifyRequest) {
      if (request.refusal !== undefined || allowed(request.user)) return
      app.security.report('security.auth.failed', { reason, userId: request.user.userId, route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] })
      request.refusal = { code: CloseCode.FORBIDDEN, reason }
    })
}, { name: 'auth', dependencies: ['config', 'security', 'auth-failures', 'tickets', 'revocations'] })

/**
 * HTTP routes refuse before the body is read; Node would then read and discard whatever body the
 * client still sends, up to HTTP_REQUEST_TIMEOUT, to reuse the connection. Closing it after the
 * answer costs the refused client a new connection instead of costing the gateway its upload.
 */
function endAfterAnswer (reply: FastifyReply): void {
  void reply.header('connection', 'close')
}
