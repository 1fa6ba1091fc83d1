import type { RawData, WebSocket } from 'ws'
import { closeSocket, ReadyState } from './connection.js'
import { countsAsFailure } from './credentials.js'
import { CloseCode, ProtocolError } from './errors.js'
import type { Identity } from './identity.js'
import type { MessageSigning } from './message-signing.js'
import { type ClientFrame, encodeFault, isFault, parseClientFrame } from './protocol.js'
import type { SecurityReporter } from './security.js'
import { AUTHENTICATE_TYPES, type AuthenticateType } from './wire/frames.js'

/**
 * Frames a pending socket may send, `authenticate` attempts included, before it is closed 1008
 * `auth_frame_budget`: enough for a client that retries a token or two, and the few requests
 * it sent before it had its answer; too few to make the socket worth holding open.
 */
export const PENDING_FRAME_BUDGET = 10

/** A frame that arrived while a token was being checked, handled once that is settled. */
export type HeldFrame = readonly [RawData, boolean]

/** What a socket waiting for its `authenticate` needs of the instance. */
export interface PendingContext {
  /** WEBSOCKET_AUTH_TIMEOUT */
  timeoutMs: number
  security: SecurityReporter
  /** MESSAGE_SIGNING_SECRET: `authenticate` must be signed too; undefined when unset. */
  signing?: MessageSigning | undefined
  /** Verifies a token as an upgrade's is verified; the identity, or why it is refused. */
  verify: (token: string) => Promise<Identity | string>
  /** Counts a failed token against `ip` (AUTH_FAILURE_LIMIT); true when the address is blocked. */
  failed: (ip: string) => Promise<boolean>
}

/** `authenticate`, and `auth`, the name the design documents give it. */
export function isAuthenticate (type: string): type is AuthenticateType {
  return (AUTHENTICATE_TYPES as readonly string[]).includes(type)
}

/**
 * Holds a socket opened without a credential until it sends a valid `authenticate`: every other
 * frame is answered UNAUTHORIZED, a refused token counts as a failed authentication and leaves
 * the socket waiting, and WEBSOCKET_AUTH_TIMEOUT closes it 4001 `auth_timeout`. A valid token
 * hands the identity, with the frames that arrived while it was checked, to `authenticated`,
 * which admits the socket as an upgrade is admitted. A pending socket is a few per address, so
 * its listeners are closures, unlike an open session's.
 */
export function awaitAuthentication (ctx: PendingContext, socket: WebSocket, ip: string, authenticated: (identity: Identity, held: HeldFrame[]) => void): void {
  let received = 0
  let checking = false
  const held: HeldFrame[] = []
  const timer = setTimeout(() => { closeSocket(socket, CloseCode.UNAUTHORIZED, 'auth_timeout') }, ctx.timeoutMs)
  const stop = (): void => {
    clearTimeout(timer)
    socket.removeListener('message', onMessage)
    socket.removeListener('close', stop)
  }
  socket.on('message', onMessage)
  socket.on('close', stop)

  function onMessage (data: RawData, isBinary: boolean): void {
    if (socket.readyState !== ReadyState.OPEN) return
    if (++received > PENDING_FRAME_BUDGET) {
      closeSocket(socket, CloseCode.POLICY_VIOLATION, 'auth_frame_budget')
      return
    }
    // A request sent right behind `authenticate` is the client's first as a user: it waits.
    if (checking) held.push([data, isBinary])
    else handle(data, isBinary)
  }

  function handle (data: RawData, isBinary: boolean): void {
    const frame = parseClientFrame(data, isBinary)
    if (isFault(frame)) {
      socket.send(encodeFault(frame, ctx.signing?.seal))
      return
    }
    if (!isAuthenticate(frame.type)) {
      socket.send(encodeFault({ code: ProtocolError.UNAUTHORIZED, message: 'authenticate first: send {"type":"authenticate","payload":{"token":"…"}}', id: frame.id }, ctx.signing?.seal))
      return
    }
    const { token } = frame.payload
    if (typeof token !== 'string' || token === '') {
      socket.send(encodeFault({ code: ProtocolError.INVALID_MESSAGE, message: 'payload.token must be a non-empty string', id: frame.id }, ctx.signing?.seal))
      return
    }
    checking = true
    check(frame, token).catch((err: unknown) => {
      socket.emit('error', err instanceof Error ? err : new Error(String(err)))
    })
  }

  async function check (frame: ClientFrame, token: string): Promise<void> {
    const refused = await ctx.signing?.check(frame)
    if (socket.readyState !== ReadyState.OPEN) return
    if (refused !== undefined) {
      socket.send(encodeFault(refused, ctx.signing?.seal))
      resume()
      return
    }
    const result = await ctx.verify(token)
    if (socket.readyState !== ReadyState.OPEN) return
    if (typeof result !== 'string') {
      stop()
      authenticated(result, held)
      return
    }
    ctx.security.report('security.auth.failed', { reason: result, ip, request: 'authenticate' })
    const blocked = countsAsFailure(result) && await ctx.failed(ip)
    if (socket.readyState !== ReadyState.OPEN) return
    if (blocked) {
      closeSocket(socket, CloseCode.POLICY_VIOLATION, 'too_many_auth_failures')
      return
    }
    socket.send(encodeFault({ code: ProtocolError.UNAUTHORIZED, message: result, id: frame.id }, ctx.signing?.seal))
    resume()
  }

  /** Handles, in order, the frames held while an `authenticate` was refused. */
  function resume (): void {
    checking = false
    while (!checking && held.length > 0) {
      const [data, isBinary] = held.shift() as HeldFrame
      handle(data, isBinary)
    }
  }
}
