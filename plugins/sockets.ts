import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { Admissions } from '../src/admissions.js'
import { closeSocket } from '../src/connection.js'
import { CloseCode } from '../src/errors.js'
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
     * 4008 when the user holds all their slots; else reserves a slot for the connection.
     */
    admitSocket: preValidationAsyncHookHandler
    /** Opens an admitted socket as a stream, or closes it with the refusal's code. */
    acceptSocket: (socket: WebSocket, request: FastifyRequest, stream: Stream) => void
    /** The sockets handed to sessions and not yet closed: shutdown closes them 1001. */
    openSockets: OpenSockets
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

  app.decorateRequest('connectionId', undefined)
  app.decorate('admitSocket', async function admitSocket (request: FastifyRequest) {
    if (request.refusal !== undefined) return
    const { userId } = request.user
    const admission = await admissions.admit(request.raw.socket, userId)
    if (admission === undefined) return
    if ('connectionId' in admission) {
      request.connectionId = admission.connectionId
      return
    }
    request.refusal = admission.refusal
    const audit = { userId, ip: request.ip, userAgent: request.headers['user-agent'] }
    security.report('security.rate_limit.exceeded', { ...audit, reason: admission.refusal.reason })
    // The audit record above is the admins'; this tells the user, whose other sockets hold the slots.
    if (admission.refusal.code === CloseCode.TOO_MANY_CONNECTIONS) {
      security.report('session.concurrent_limit', { ...audit, reason: admission.refusal.reason, limit: config.maxConnectionsPerUser })
    }
  })

  app.decorate('acceptSocket', (socket: WebSocket, request: FastifyRequest, stream: Stream) => {
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
      const { userId, sessionId } = request.user
      security.report('session.created', { reason: 'connected', userId, sessionId, connectionId, stream, ip: request.ip, userAgent: request.headers['user-agent'] })
      return
    }
    const { userId } = request.user
    socket.once('close', () => { open.closed(socket, userId, connectionId) })
  })
}, { name: 'sockets', dependencies: ['config', 'drain', 'bus', 'hub', 'credentials', 'socket-auth', 'security', 'revocations'] })
