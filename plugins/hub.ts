import { randomUUID } from 'node:crypto'
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { Admissions } from '../src/admissions.js'
import type { BusMessage } from '../src/bus/bus.js'
import { closeSocket, type Stream } from '../src/connection.js'
import { CloseCode } from '../src/errors.js'
import { Hub } from '../src/hub.js'
import { ReplayGate } from '../src/replay-gate.js'
import { openSession, type SessionContext } from '../src/session.js'
import { ConnectionSlots } from '../src/slots.js'
import { releaseUpgrade, upgradeListeners } from './websocket.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub
    /**
     * WebSocket routes, after authentication: refuses with 1013 when this instance is full,
     * 4008 when the user holds all their slots; else reserves a slot for the connection.
     */
    admitSocket: preValidationAsyncHookHandler
    /** Opens an admitted socket as a stream, or closes it with the refusal's code. */
    acceptSocket: (socket: WebSocket, request: FastifyRequest, stream: Stream) => void
    /** Runs `listener` once per event from the bus, after the hub handed it to this instance's sockets. */
    afterDelivery: (listener: (message: BusMessage) => void) => void
    /** Client frames this instance's sessions refused `RATE_LIMITED`. */
    readonly refusedFrames: number
  }
  interface FastifyRequest {
    /** The id reserved for the connection this upgrade opens. */
    connectionId: string | undefined
  }
}

export default fp(async function hubPlugin (app) {
  const { config } = app
  const hub = new Hub({ maxBufferedBytes: config.maxBufferedBytes })
  let refusedFrames = 0
  const context: SessionContext = {
    hub,
    serverId: config.serverId,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxSubscriptions: config.maxSubscriptions,
    maxPatternLength: config.maxPatternLength,
    history: app.bus.history,
    maxReplay: config.retention.maxEvents,
    maxReplayBytes: config.resume.maxBytes,
    maxDataBytes: config.maxDataBytes,
    replays: new ReplayGate({ perInstance: config.resume.concurrency, perUser: config.resume.concurrencyPerUser }),
    reads: app.bus,
    messageLimits: config.messages,
    security: app.security,
    tokens: {
      verify: app.verifyToken,
      revoked: (identity) => app.revocations.appliedTo(identity),
      failed: app.socketAuthFailure,
      expiryWarningMs: config.tokenExpiryWarningMs
    },
    onFrameRefused: () => { refusedFrames++ },
    onClose: (connection) => { closed(connection.socket as WebSocket, connection.identity.userId, connection.id) }
  }
  app.decorate('hub', hub)
  app.decorate('refusedFrames', { getter: () => refusedFrames })
  const delivered: Array<(message: BusMessage) => void> = []
  app.decorate('afterDelivery', (listener: (message: BusMessage) => void) => { delivered.push(listener) })
  await app.bus.subscribe((message) => {
    hub.deliver(message)
    for (const listener of delivered) listener(message)
  })

  // A slot outlives two heartbeats; each heartbeat refreshes the slots of the sockets still here.
  const slots = new ConnectionSlots(app.store, config.maxConnectionsPerUser, 2 * config.heartbeatIntervalMs, (userId) => hub.connectionsOf(userId), app.log.child({ component: 'slots' }))
  const heartbeat = setInterval(() => {
    hub.heartbeat()
    slots.refresh(hub.each())
  }, config.heartbeatIntervalMs)
  heartbeat.unref()
  const cleanup = setInterval(() => { hub.sweep() }, config.cleanupIntervalMs)
  cleanup.unref()

  app.decorateRequest('connectionId', undefined)
  /** The sockets of open sessions, so shutdown can wait for their closing handshakes. */
  const open = new Set<WebSocket>()
  function closed (socket: WebSocket, userId: string, connectionId: string): void {
    open.delete(socket)
    slots.release(userId, connectionId)
  }

  const admissions = new Admissions(config.maxConnections, () => hub.size, (userId, connectionId) => { slots.release(userId, connectionId) })
  // Before the upgrade, so no frame can arrive while the store is asked.
  app.decorate('admitSocket', async function admitSocket (request: FastifyRequest) {
    if (request.refusal !== undefined) return
    const { userId } = request.user
    const upgrade = request.raw.socket
    if (!admissions.reserve(upgrade, userId)) {
      request.refusal = { code: CloseCode.TRY_AGAIN_LATER, reason: 'server_full' }
    } else {
      const connectionId = randomUUID()
      if (!await slots.acquire(userId, connectionId)) {
        admissions.settle(upgrade)
        request.refusal = { code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'too_many_connections' }
      } else if (admissions.granted(upgrade, connectionId)) {
        request.connectionId = connectionId
      } else {
        // The client left while the store was asked: nothing will open.
        slots.release(userId, connectionId)
      }
    }
    if (request.refusal !== undefined) {
      app.security.report('security.rate_limit.exceeded', { reason: request.refusal.reason, userId, ip: request.ip, userAgent: request.headers['user-agent'] })
    }
  })

  app.decorate('acceptSocket', (socket: WebSocket, request: FastifyRequest, stream: Stream) => {
    // Opened below, and counted by the hub, or closed: either way its place is free.
    admissions.settle(request.raw.socket)
    const { refusal, connectionId } = request
    if (refusal !== undefined || connectionId === undefined) {
      closeSocket(socket, refusal?.code ?? CloseCode.TRY_AGAIN_LATER, refusal?.reason ?? 'not_admitted')
      return
    }
    // Admitted before the drain began, upgraded after the hub closed its sockets: it would miss
    // their 1001, and could hold the shutdown open.
    if (app.draining) {
      closeSocket(socket, CloseCode.GOING_AWAY, 'server_shutting_down')
      slots.release(request.user.userId, connectionId)
      return
    }
    const upgrade = upgradeListeners(socket)
    const connection = openSession(context, socket, connectionId, request.user, stream, app.log)
    open.add(socket)
    if (connection !== undefined) {
      // The session listens for the socket's errors now, and calls `closed` when it closes.
      releaseUpgrade(socket, request, upgrade)
      return
    }
    const { userId } = request.user
    socket.once('close', () => { closed(socket, userId, connectionId) })
  })

  // Registered before @fastify/websocket's own preClose, so clients get 1001 rather than 1005,
  // and after the drain plugin's (a dependency), so health is 503 before the first close.
  app.addHook('preClose', async () => {
    app.log.info({ connections: hub.size }, 'closing every socket 1001 server_shutting_down')
    // A socket already CLOSED has emitted its 'close' (a close listener threw, say): skip it.
    // (Not events.once: it rejects on the 'error' a socket may emit before its 'close'.)
    const closed = Array.from(open, async (socket) => {
      if (socket.readyState !== socket.CLOSED) await new Promise((resolve) => socket.once('close', resolve))
    })
    hub.closeAll(CloseCode.GOING_AWAY, 'server_shutting_down')
    // The listener stays open (Fastify closes it after the preClose hooks) until the clients
    // have answered: meanwhile health checks and reconnects get a 503 saying `draining`
    // rather than a refused connection. A client that never answers (asleep, or not reading)
    // would hold this for ws's close timeout (30 s), past SHUTDOWN_TIMEOUT: half of it is
    // its grace, the other half is left for the rest of the shutdown.
    const grace = setTimeout(() => {
      app.log.warn({ connections: open.size }, 'sockets did not answer the close in time, terminating')
      for (const socket of open) socket.terminate()
    }, config.shutdownTimeoutMs / 2)
    await Promise.all(closed)
    clearTimeout(grace)
  })
  app.addHook('onClose', async () => {
    clearInterval(heartbeat)
    clearInterval(cleanup)
  })
}, { name: 'hub', dependencies: ['config', 'drain', 'bus', 'auth', 'security', 'store', 'revocations'] })
