import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { Admissions } from '../src/admissions.js'
import { closeSocket } from '../src/connection.js'
import { CloseCode, GatewayError } from '../src/errors.js'
import type { HeldFrame } from '../src/pending-authentication.js'
import { openSocketSession } from '../src/socket-session.js'
import type { Stream } from '../src/wire/streams.js'
import { releaseUpgrade, upgradeListeners } from './websocket.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Reserves this instance's place and the slot of `request.user`'s connection, or records the
     * refusal: 1013 when this instance is full, 4008 when the user holds all their slots. With
     * the upgrade's `reply`, first counts the upgrade against RATE_LIMIT_UPGRADES in the same
     * store call, and past it refuses the upgrade 429 EVENTGATE_RATE_LIMITED.
     */
    admitUser: (request: FastifyRequest, reply?: FastifyReply) => Promise<void>
    /**
     * Opens an admitted socket as a stream, or closes it with the refusal's code; `held` are
     * frames it sent before it was admitted.
     */
    openAdmitted: (socket: WebSocket, request: FastifyRequest, stream: Stream, held: readonly HeldFrame[]) => void
  }
  interface FastifyRequest {
    /** The id reserved for the connection this upgrade opens. */
    connectionId: string | undefined
  }
}

/** Admits WebSocket upgrades (src/admissions.ts) and opens them as sessions (src/socket-session.ts). */
export default fp(async function socketsPlugin (app) {
  const { config, hub, slots, security, openSockets: open, socketSessions: context } = app
  const admissions = new Admissions(config.maxConnections, () => hub.size, slots)

  app.decorateRequest('connectionId', undefined)
  const { upgradesPerMinute } = config.rateLimits
  app.decorate('admitUser', async function admitUser (request: FastifyRequest, reply?: FastifyReply): Promise<void> {
    const { userId } = request.user
    const admission = await admissions.admit(request.raw.socket, userId, reply !== undefined)
    if (admission === undefined) return
    if ('limited' in admission) {
      security.report('security.rate_limit.exceeded', { reason: 'upgrades', route: request.routeOptions.url, userId, ip: request.ip, userAgent: request.headers['user-agent'] })
      const seconds = Math.max(1, Math.ceil(admission.limited.retryInMs / 1000))
      void reply?.headers({ 'x-ratelimit-limit': upgradesPerMinute, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': seconds, 'retry-after': seconds })
      throw new GatewayError('EVENTGATE_RATE_LIMITED', `rate limit of ${upgradesPerMinute} per minute exceeded; retry in ${seconds} seconds`)
    }
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

  app.decorate('openAdmitted', function openAdmitted (socket: WebSocket, request: FastifyRequest, stream: Stream, held: readonly HeldFrame[]): void {
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
      for (const [data, isBinary] of held) socket.emit('message', data, isBinary)
      return
    }
    const { userId } = request.user
    socket.once('close', () => { open.closed(socket, userId, connectionId) })
  })
}, { name: 'sockets', dependencies: ['config', 'drain', 'hub', 'security', 'socket-sessions'] })
