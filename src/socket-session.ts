import type { RawData, WebSocket } from 'ws'
import { closeSocket, Connection, ReadyState } from './connection.js'
import { CloseCode, ProtocolError } from './errors.js'
import { FrameQueue } from './frame-queue.js'
import type { Identity } from './identity.js'
import type { Log } from './logging.js'
import { type MessageLimits, MessageLimiter } from './message-limiter.js'
import type { MessageSigning } from './message-signing.js'
import { type ClientFrame, encodeFault, encodeFrame, type Fault, isFault, parseClientFrame } from './protocol.js'
import { isReauthenticate, type Reply, type RequestContext, requestHandlers } from './requests.js'
import type { SecurityReporter } from './security.js'
import { isoOrNull, type TokenContext, TokenLifetime } from './token-lifecycle.js'
import type { Stream } from './wire/streams.js'

export interface SocketSessionContext extends RequestContext {
  serverId: string
  heartbeatIntervalMs: number
  messageLimits: MessageLimits
  security: SecurityReporter
  tokens: TokenContext
  /** MESSAGE_SIGNING_SECRET: seals the frames sent and checks those received; undefined when unset. */
  signing?: MessageSigning | undefined
  /** Called for each frame refused `RATE_LIMITED` (metrics count them). */
  onFrameRefused?: () => void
  /** Called when an open socket session's socket has closed, after the hub let go of it. */
  onClose?: (connection: Connection) => void
}

/**
 * What a socket's listeners need; one object per socket, found through the socket. A socket
 * session is one socket's life, not the login session a token's `sid` names (`sessionId`),
 * which routes/sessions.ts revokes.
 */
interface SocketSession {
  readonly ctx: SocketSessionContext
  readonly connection: Connection
  readonly limiter: MessageLimiter
  readonly lifetime: TokenLifetime
  readonly frames: FrameQueue<Connection>
}

/**
 * The socket session, where its listeners find it. The listeners are shared by every socket
 * (they run with `this` bound to it) rather than closures made per socket: with tens of
 * thousands of idle sockets, those closures and their scope weighed more than the socket session.
 */
const kSocketSession = Symbol('eventgate.socketSession')
type SocketWithSession = WebSocket & { [kSocketSession]: SocketSession }

/**
 * Takes an authenticated socket into the hub: listeners first (a frame that arrives while
 * anything awaits would otherwise be lost), then the `connected` frame.
 */
export function openSocketSession (ctx: SocketSessionContext, socket: WebSocket, id: string, identity: Identity, stream: Stream, parentLog: Log): Connection | undefined {
  // An upgrade can pass its revocation check just before a revocation is written and get here
  // just after this instance closed the sockets it covers; it would otherwise live to its `exp`.
  const revoked = ctx.tokens.revoked(identity)
  if (revoked !== undefined) {
    ctx.security.report('security.connection.revoked', { reason: revoked, userId: identity.userId, sessionId: identity.sessionId, connectionId: id })
    closeSocket(socket, CloseCode.UNAUTHORIZED, revoked)
    return undefined
  }
  const connection = new Connection(id, socket, identity, stream, parentLog)
  ctx.hub.add(connection)
  connection.reads = ctx.reads.partitioning.read(stream, identity.userId)
  // The bus begins to read what it did not; a `subscribe` waits for it to stand somewhere.
  const read = ctx.reads.read(stream, identity.userId)
  const reading = identity.groups.length === 0 ? read : Promise.all([read, ctx.rooms.enterGroups(connection)])
  connection.reading = reading.then(() => { connection.reading = undefined })
  const lifetime = new TokenLifetime(ctx.tokens, ctx.security, connection, ctx.rooms)
  const session: SocketSession = { ctx, connection, limiter: new MessageLimiter(ctx.messageLimits), lifetime, frames: new FrameQueue(requestFailed, connection) }
  ;(socket as SocketWithSession)[kSocketSession] = session
  socket.on('message', onMessage)
  socket.on('pong', onPong)
  socket.on('error', onError)
  socket.on('close', onClose)
  connection.send(encodeFrame('connected', undefined, {
    connectionId: connection.id,
    serverId: ctx.serverId,
    userId: identity.userId,
    groups: identity.groups,
    expiresAt: isoOrNull(identity.expiresAt),
    heartbeatIntervalMs: ctx.heartbeatIntervalMs
  }, ctx.signing?.seal))
  lifetime.start()
  connection.log.info({ stream }, 'connection opened')
  return connection
}

function socketSessionOf (socket: WebSocket): SocketSession {
  return (socket as SocketWithSession)[kSocketSession]
}

function onMessage (this: WebSocket, data: RawData, isBinary: boolean): void {
  // Once the socket is closing nothing it sends is read: a client that went on sending after
  // its 1008 had every frame refused, audited and logged until ws gave up on it, 30 s later.
  if (this.readyState !== ReadyState.OPEN) return
  const { ctx, connection, limiter, lifetime, frames } = socketSessionOf(this)
  const verdict = limiter.check()
  if (verdict === 'accept') frames.run(() => handleFrame(ctx, connection, lifetime, data, isBinary))
  else refuseFrame(ctx, connection, verdict, this)
}

function onPong (this: WebSocket): void {
  socketSessionOf(this).connection.alive = true
}

function onError (this: WebSocket, err: Error): void {
  const { connection } = socketSessionOf(this)
  // A WS_ERR_* is the client breaking the protocol: ws has already sent the close frame with
  // its code (1009 too big, 1007 not UTF-8, 1002 bad frame). Anything else is ours, and
  // terminate() does not wait for a peer that may never answer.
  const { code } = err as { code?: unknown }
  if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
    connection.log.warn({ err }, 'socket error')
    return
  }
  connection.log.error({ err }, 'socket failed')
  this.terminate()
}

function onClose (this: WebSocket, code: number): void {
  const { ctx, connection, lifetime } = socketSessionOf(this)
  lifetime.stop()
  ctx.hub.remove(connection)
  ctx.reads.unread(connection.stream, connection.identity.userId)
  ctx.rooms.closed(connection)
  // A resume of its waiting for a turn would hold a place in the replay queue until reached.
  ctx.replays.abandon(connection)
  connection.log.info({ code }, 'connection closed')
  ctx.onClose?.(connection)
}

function requestFailed (err: unknown, connection: Connection): void {
  connection.log.error({ err }, 'request failed')
}

function refuseFrame (ctx: SocketSessionContext, connection: Connection, verdict: 'refuse' | 'close', socket: WebSocket): void {
  if (verdict === 'refuse') {
    ctx.onFrameRefused?.()
    connection.send(encodeFault({ code: ProtocolError.RATE_LIMITED, message: `at most ${ctx.messageLimits.perSecond} messages per second` }, ctx.signing?.seal))
    return
  }
  const { userId, sessionId } = connection.identity
  ctx.security.report('security.rate_limit.exceeded', { reason: 'message_rate', userId, sessionId, connectionId: connection.id })
  connection.close(CloseCode.POLICY_VIOLATION, 'rate_limited')
  // Its close answer is not worth reading the flood for: the close frame still goes out, the
  // kernel holds the client's writes back, and the grace ends the socket.
  socket.pause()
}

function handleFrame (ctx: SocketSessionContext, connection: Connection, lifetime: TokenLifetime, data: RawData, isBinary: boolean): void | Promise<void> {
  // A frame queued behind a reauthentication may run after the socket closed and the hub let
  // go of the connection: a late subscribe would put it back into a trie for good.
  if (!connection.open) return
  const frame = parseClientFrame(data, isBinary)
  if (isFault(frame)) {
    connection.send(encodeFault(frame, ctx.signing?.seal))
    return
  }
  if (ctx.signing === undefined) return dispatch(ctx, connection, lifetime, frame)
  // The check awaits the store (the nonce): the frames after this one wait in the queue.
  return ctx.signing.check(frame).then((refused) => {
    if (!connection.open) return
    if (refused === undefined) return dispatch(ctx, connection, lifetime, frame)
    connection.send(encodeFault(refused, ctx.signing?.seal))
  }, (err: unknown) => { failed(ctx, connection, frame, err) })
}

function dispatch (ctx: SocketSessionContext, connection: Connection, lifetime: TokenLifetime, frame: ClientFrame): void | Promise<void> {
  // Asynchronous (the store is asked about revocations), so not one of the request table's.
  if (isReauthenticate(frame.type)) return lifetime.reauthenticate(frame)
  const handler = Object.hasOwn(requestHandlers, frame.type) ? requestHandlers[frame.type] : undefined
  if (handler === undefined) {
    connection.send(encodeFault({ code: ProtocolError.UNKNOWN_TYPE, message: `unknown request type "${frame.type}"`, id: frame.id }, ctx.signing?.seal))
    return
  }
  try {
    const reply = handler(ctx, connection, frame.payload)
    // Asynchronous replies (a resume reads the history) hold the frames after them back.
    if (reply instanceof Promise) return reply.then((r) => { answer(ctx, connection, frame.id, r) }, (err: unknown) => { failed(ctx, connection, frame, err) })
    answer(ctx, connection, frame.id, reply)
  } catch (err) {
    failed(ctx, connection, frame, err)
  }
}

function failed (ctx: SocketSessionContext, connection: Connection, frame: ClientFrame, err: unknown): void {
  connection.log.error({ err, request: frame.type }, 'request failed')
  connection.send(encodeFault({ code: ProtocolError.INTERNAL_ERROR, message: 'the request failed', id: frame.id }, ctx.signing?.seal))
}

function answer (ctx: SocketSessionContext, connection: Connection, id: string | number | undefined, reply: Reply | Fault): void {
  if (isFault(reply)) {
    if (reply.code === ProtocolError.FORBIDDEN) {
      ctx.security.report('security.subscription.forbidden', { reason: reply.message, userId: connection.identity.userId, connectionId: connection.id })
    }
    connection.send(encodeFault({ ...reply, id }, ctx.signing?.seal))
    return
  }
  connection.send(encodeFrame(reply.type, id, reply.payload, ctx.signing?.seal))
  reply.after?.()
}
