import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { closeSocket } from '../src/connection.js'
import { CloseCode } from '../src/errors.js'
import { type Identity, isAdmin } from '../src/identity.js'
import { awaitAuthentication, type HeldFrame } from '../src/pending-authentication.js'
import { PendingSockets } from '../src/pending-sockets.js'
import type { Stream } from '../src/wire/streams.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * WebSocket routes, after authentication: refuses with 1013 when this instance is full,
     * 4008 when the user holds all their slots, 429 past the user's RATE_LIMIT_UPGRADES (counted
     * in the same store call); else reserves a slot for the connection. An
     * upgrade without a credential takes a pending place instead, refused 1013
     * `too_many_unauthenticated` past WEBSOCKET_MAX_UNAUTHENTICATED(_PER_IP).
     */
    admitSocket: preValidationAsyncHookHandler
    /** Opens an admitted socket as a stream, or holds a pending one until it authenticates. */
    acceptSocket: (socket: WebSocket, request: FastifyRequest, stream: Stream) => void
    /** Sockets open without a credential, waiting for `authenticate`. */
    pendingSockets: PendingSockets
    /** Closes every socket still waiting for `authenticate`: shutdown tells them 1001 too. */
    closePendingSockets: (code: number, reason: string) => void
  }
}

const TOO_MANY_UNAUTHENTICATED = { code: CloseCode.TRY_AGAIN_LATER, reason: 'too_many_unauthenticated' }

/** The WebSocket routes' two hooks: admission at the upgrade, and the socket once open. */
export default fp(async function upgradesPlugin (app) {
  const { config, security } = app
  const pending = new PendingSockets(config.pending)
  app.decorate('pendingSockets', pending)
  const waiting = new Set<WebSocket>()
  app.decorate('closePendingSockets', (code: number, reason: string) => {
    for (const socket of waiting) closeSocket(socket, code, reason)
  })
  const pendingContext = {
    timeoutMs: config.pending.timeoutMs,
    security,
    signing: app.messageSigning,
    verify: app.verifyToken,
    failed: async (ip: string) => await app.authFailure(ip) > 0
  }

  app.decorate('admitSocket', async function admitSocket (request: FastifyRequest, reply: FastifyReply) {
    if (request.refusal !== undefined) return
    if (!request.pending) return await app.admitUser(request, reply)
    if (pending.reserve(request.raw.socket, request.ip)) return
    request.refusal = TOO_MANY_UNAUTHENTICATED
    security.report('security.rate_limit.exceeded', { reason: TOO_MANY_UNAUTHENTICATED.reason, ip: request.ip, userAgent: request.headers['user-agent'] })
  })

  /**
   * A pending socket sent a valid token: the checks an upgrade with that token meets now, the
   * stream's role (4003), then this instance's capacity (1013) and the user's slots (4008).
   */
  async function admitAuthenticated (socket: WebSocket, request: FastifyRequest, stream: Stream, identity: Identity, held: readonly HeldFrame[]): Promise<void> {
    pending.release(request.raw.socket)
    request.user = identity
    if (stream === 'admin' && !isAdmin(identity)) {
      security.report('security.auth.failed', { reason: 'admin_required', userId: identity.userId, route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] })
      request.refusal = { code: CloseCode.FORBIDDEN, reason: 'admin_required' }
    } else {
      await app.admitUser(request)
    }
    app.openAdmitted(socket, request, stream, held)
  }

  app.decorate('acceptSocket', (socket: WebSocket, request: FastifyRequest, stream: Stream) => {
    if (!request.pending || request.refusal !== undefined) return app.openAdmitted(socket, request, stream, [])
    if (app.draining) return closeSocket(socket, CloseCode.GOING_AWAY, 'server_shutting_down')
    waiting.add(socket)
    socket.once('close', () => { waiting.delete(socket) })
    awaitAuthentication(pendingContext, socket, request.ip, (identity, held) => {
      waiting.delete(socket)
      request.pending = false
      admitAuthenticated(socket, request, stream, identity, held).catch((err: unknown) => {
        request.log.error({ err }, 'authenticated socket not admitted')
        closeSocket(socket, CloseCode.TRY_AGAIN_LATER, 'not_admitted')
      })
    })
  })
}, { name: 'upgrades', dependencies: ['config', 'drain', 'sockets', 'message-signing', 'credentials', 'auth-failures', 'security'] })
