import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { Admissions } from '../src/admissions.js'
import { closeSocket } from '../src/connection.js'
import { CloseCode } from '../src/errors.js'
import { type Identity, isAdmin } from '../src/identity.js'
import { awaitAuthentication, type HeldFrame } from '../src/pending-authentication.js'
import { PendingSockets } from '../src/pending-sockets.js'
import { OpenSockets } from '../src/open-sockets.js'
import { sessionContext } from '../src/session-context.js'
import type { ResumeOutcome } from '../src/resume.js'
import { openSocketSession } from '../src/socket-session.js'
import type { Stream } from '../src/wire/streams.js'
import { releaseUpgrade, upgradeListeners } from './websocket.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * WebSocket routes, after authentication: refuses with 1013 when this instance is full,
     * 4008 when the user holds all their slots; else reserves a slot for the connection. An
     * upgrade without a credential takes a pending place instead, refused 1013
     * `too_many_unauthenticated` past WEBSOCKET_MAX_UNAUTHENTICATED(_PER_IP).
     */
    admitSocket: preValidationAsyncHookHandler
    /** Opens an admitted socket as a stream, or closes it with the refusal's code. */
    acceptSocket: (socket: WebSocket, request: FastifyRequest, stream: Stream) => void
    /** The sockets handed to sessions and not yet closed: shutdown closes them 1001. */
    openSockets: OpenSockets
    /** Sockets open without a credential, waiting for `authenticate`. */
    pendingSockets: PendingSockets
    /** Client frames this instance's sessions refused `RATE_LIMITED`. */
    readonly refusedFrames: number
    /** `subscribe` requests with `since` this instance's sessions answered, by outcome. */
    readonly resumes: Readonly<Record<ResumeOutcome, number>>
  }
  interface FastifyRequest {
    /** The id reserved for the connection this upgrade opens. */
    connectionId: string | undefined
  }
}

const TOO_MANY_UNAUTHENTICATED = { code: CloseCode.TRY_AGAIN_LATER, reason: 'too_many_unauthenticated' }

/** Admits WebSocket upgrades (src/admissions.ts) and opens them as sessions (src/session.ts). */
export default fp(async function socketsPlugin (app) {
  const { config, hub, slots, revocations, security } = app
  const open = new OpenSockets((userId, connectionId) => { slots.release(userId, connectionId) })
  app.decorate('openSockets', open)
  let refusedFrames = 0
  app.decorate('refusedFrames', { getter: () => refusedFrames })
  const resumes: Record<ResumeOutcome, number> = { resumed: 0, truncated: 0, unavailable: 0 }
  app.decorate('resumes', { getter: () => resumes })
  const context = sessionContext(config, {
    hub,
    history: app.bus.history,
    reads: app.bus,
    security,
    tokens: { verify: app.verifyToken, revoked: (identity) => revocations.appliedTo(identity), failed: app.socketAuthFailure },
    onFrameRefused: () => { refusedFrames++ },
    onResumed: (outcome) => { resumes[outcome]++ },
    onClose: (connection) => { open.closed(connection.socket as WebSocket, connection.identity.userId, connection.id) }
  })
  const admissions = new Admissions(config.maxConnections, () => hub.size, slots)
  const pending = new PendingSockets(config.pending)
  app.decorate('pendingSockets', pending)
  const pendingContext = {
    timeoutMs: config.pending.timeoutMs,
    security,
    verify: app.verifyToken,
    failed: async (ip: string) => await app.authFailure(ip) > 0
  }

  app.decorateRequest('connectionId', undefined)
  app.decorate('admitSocket', async function admitSocket (request: FastifyRequest) {
    if (request.refusal !== undefined) return
    if (request.pending) {
      if (pending.reserve(request.raw.socket, request.ip)) return
      request.refusal = TOO_MANY_UNAUTHENTICATED
      security.report('security.rate_limit.exceeded', { reason: TOO_MANY_UNAUTHENTICATED.reason, ip: request.ip, userAgent: request.headers['user-agent'] })
      return
    }
    await admit(request)
  })

  /** Reserves the place and the slot of `request.user`'s connection, or records the refusal. */
  async function admit (request: FastifyRequest): Promise<void> {
    const { userId } = request.user
    const admission = await admissions.admit(request.raw.socket, userId)
    if (admission === undefined) return
    if ('connectionId' in admission) {
      request.connectionId = admission.connectionId
      return
    }
    request.refusal = admission.refusal
    security.report('security.rate_limit.exceeded', { reason: admission.refusal.reason, userId, ip: request.ip, userAgent: request.headers['user-agent'] })
  }

  /** Opens an admitted socket as a session; `held` are frames it sent before it was admitted. */
  function openAdmitted (socket: WebSocket, request: FastifyRequest, stream: Stream, held: readonly HeldFrame[]): void {
    const handed = admissions.handOver(request.raw.socket, request, app.draining)
    if ('refusal' in handed) {
      closeSocket(socket, handed.refusal.code, handed.refusal.reason)
      return
    }
    const { connectionId } = handed
    const upgrade = upgradeListeners(socket)
    const connection = openSocketSession(context, socket, connectionId, request.user, stream, app.log)
    open.add(socket)
    // The session listens for the socket's errors now, and tells `open` when it closes.
    if (connection !== undefined) {
      releaseUpgrade(socket, request, upgrade)
      for (const [data, isBinary] of held) socket.emit('message', data, isBinary)
      return
    }
    const { userId } = request.user
    socket.once('close', () => { open.closed(socket, userId, connectionId) })
  }

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
      await admit(request)
    }
    openAdmitted(socket, request, stream, held)
  }

  app.decorate('acceptSocket', (socket: WebSocket, request: FastifyRequest, stream: Stream) => {
    if (!request.pending || request.refusal !== undefined) {
      openAdmitted(socket, request, stream, [])
      return
    }
    if (app.draining) {
      closeSocket(socket, CloseCode.GOING_AWAY, 'server_shutting_down')
      return
    }
    awaitAuthentication(pendingContext, socket, request.ip, (identity, held) => {
      request.pending = false
      admitAuthenticated(socket, request, stream, identity, held).catch((err: unknown) => {
        request.log.error({ err }, 'authenticated socket not admitted')
        closeSocket(socket, CloseCode.TRY_AGAIN_LATER, 'not_admitted')
      })
    })
  })
}, { name: 'sockets', dependencies: ['config', 'drain', 'bus', 'hub', 'credentials', 'socket-auth', 'security', 'revocations'] })
