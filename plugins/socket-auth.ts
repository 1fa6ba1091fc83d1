import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { socketRefusal } from '../src/credentials.js'
import { CloseCode, type Refusal } from '../src/errors.js'
import type { Identity } from '../src/identity.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * WebSocket routes, in `preValidation` (@fastify/websocket marks upgrades in `onRequest`):
     * records why the socket is to be refused; fails the upgrade 429 only for a token that
     * fails from a blocked address.
     */
    authenticateSocket: preValidationAsyncHookHandler
    /** WebSocket routes, after authenticateSocket: refuses with 4003 unless `allowed`. */
    authorizeSocket: (allowed: (identity: Identity) => boolean, reason: string) => preValidationAsyncHookHandler
    /**
     * Counts a token that failed `reauthenticate` on an open socket against the address its
     * upgrade came from; resolves true when that address is blocked.
     */
    socketAuthFailure: (socket: object) => Promise<boolean>
  }
  interface FastifyRequest {
    /** Why the upgrade's socket is to be closed once open, rather than taken into a session. */
    refusal: Refusal | undefined
    /**
     * The upgrade carried no credential at all: its socket is opened pending, to send
     * `authenticate` within WEBSOCKET_AUTH_TIMEOUT, and `user` is unset until then.
     */
    pending: boolean
  }
}

/** Authentication and authorization of WebSocket upgrades, and of tokens their sockets send later. */
export default fp(async function socketAuthPlugin (app) {
  app.decorateRequest('refusal', undefined)
  app.decorateRequest('pending', false)
  // The client address of each authenticated upgrade, by its TCP socket, for the failures of
  // later `reauthenticate` requests: the session keeps no request, and behind a trusted proxy
  // the address is X-Forwarded-For's, which only the request knew. Weak: it goes with the socket.
  const upgradeAddresses = new WeakMap<object, string>()

  app.decorate('authenticateSocket', async function authenticateSocket (request: FastifyRequest, reply: FastifyReply) {
    const result = await app.verifyRequest(request, true)
    await app.auditAuthentication(request, reply, result)
    if (!('identity' in result) && result.reason === 'token_missing') {
      request.pending = true
      return
    }
    if (!('identity' in result)) {
      request.refusal = socketRefusal(result.reason)
      return
    }
    request.user = result.identity
    upgradeAddresses.set(request.raw.socket, request.ip)
  })

  app.decorate('authorizeSocket', (allowed: (identity: Identity) => boolean, reason: string) =>
    async function authorizeSocket (request: FastifyRequest) {
      if (request.refusal !== undefined || request.pending || allowed(request.user)) return
      app.security.report('security.auth.failed', { reason, userId: request.user.userId, route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] })
      request.refusal = { code: CloseCode.FORBIDDEN, reason }
    })

  app.decorate('socketAuthFailure', async function socketAuthFailure (socket: object) {
    // ws keeps the TCP socket it was upgraded on as `_socket`.
    const tcp = (socket as { _socket?: { remoteAddress?: string } })._socket
    const ip = tcp === undefined ? undefined : upgradeAddresses.get(tcp) ?? tcp.remoteAddress
    return ip !== undefined && await app.authFailure(ip) > 0
  })
}, { name: 'socket-auth', dependencies: ['credentials', 'security', 'auth-failures'] })
