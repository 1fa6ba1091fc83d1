import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { OpenSockets } from '../src/open-sockets.js'
import { Rooms } from '../src/rooms.js'
import type { ResumeOutcome } from '../src/resume.js'
import { sessionContext } from '../src/session-context.js'
import type { SocketSessionContext } from '../src/socket-session.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** What every socket session of this instance shares: limits, the bus, the token checks. */
    socketSessions: SocketSessionContext
    /** The sockets handed to sessions and not yet closed: shutdown closes them 1001. */
    openSockets: OpenSockets
    /** The rooms this instance's sockets are in (docs/rooms.md). */
    rooms: Rooms
    /** Client frames this instance's sessions refused `RATE_LIMITED`. */
    readonly refusedFrames: number
    /** `subscribe` requests with `since` this instance's sessions answered, by outcome. */
    readonly resumes: Readonly<Record<ResumeOutcome, number>>
  }
}

/** The context socket sessions share, and the figures they keep for the metrics. */
export default fp(async function socketSessionsPlugin (app) {
  const { config, hub, slots, revocations, security } = app
  const open = new OpenSockets((userId, connectionId) => { slots.release(userId, connectionId) })
  app.decorate('openSockets', open)
  let refusedFrames = 0
  app.decorate('refusedFrames', { getter: () => refusedFrames })
  const resumes: Record<ResumeOutcome, number> = { resumed: 0, truncated: 0, unavailable: 0 }
  app.decorate('resumes', { getter: () => resumes })
  const rooms = new Rooms({ hub, bus: app.bus, store: app.store, log: app.log.child({ component: 'rooms' }), seal: app.messageSigning?.seal }, config.rooms)
  app.decorate('rooms', rooms)
  // Member slots outlive two heartbeats; each heartbeat keeps those of the sockets still here.
  const keep = setInterval(() => { rooms.refresh(hub.each()) }, config.heartbeatIntervalMs)
  keep.unref()
  app.addHook('onClose', async () => { clearInterval(keep) })
  app.decorate('socketSessions', sessionContext(config, {
    hub,
    history: app.bus.history,
    reads: app.bus,
    rooms,
    publisher: app.publisher,
    security,
    signing: app.messageSigning,
    tokens: { verify: app.verifyToken, revoked: (identity) => revocations.appliedTo(identity), failed: app.socketAuthFailure },
    onFrameRefused: () => { refusedFrames++ },
    onResumed: (outcome) => { resumes[outcome]++ },
    onClose: (connection) => { open.closed(connection.socket as WebSocket, connection.identity.userId, connection.id) }
  }))
}, { name: 'socket-sessions', dependencies: ['message-signing', 'config', 'bus', 'hub', 'store', 'publisher', 'credentials', 'socket-auth', 'security', 'revocations'] })
