import type { ServerResponse } from 'node:http'
import type { Socket as TcpSocket } from 'node:net'

/**
 * The members of `ws` and Node that eventgate uses without their being documented, all here.
 * A new version may rename any of them, and nothing would fail: the fast path would fall back,
 * memory would stay held. test/integration/private-apis.test.ts fails instead, on real sockets.
 */

/**
 * `_sender`: the Sender a `ws` WebSocket writes its frames to the TCP socket with (engine.io
 * writes prepared frames through it the same way). Its bytes count in `bufferedAmount`, so
 * slow-consumer detection sees them.
 */
interface WithSender {
  _sender?: { _state?: unknown, sendFrame?: (list: Buffer[]) => void }
}

/**
 * The sender's `_state` when it is idle: no frame waits behind a compression or a Blob read.
 * Only then may a prepared frame be written directly; otherwise it would overtake the waiting ones.
 */
const SENDER_IDLE = 0

/**
 * Writes a complete WebSocket frame, prepared once for every recipient, through the socket's
 * sender; false when the sender cannot take it now (or this `ws` has none such), and the
 * caller sends the frame's text instead.
 */
export function writePreparedFrame (socket: object, frame: { readonly wire: Buffer }): boolean {
  const sender = (socket as WithSender)._sender
  if (sender?._state !== SENDER_IDLE || sender.sendFrame === undefined) return false
  sender.sendFrame([frame.wire])
  return true
}

/**
 * `_httpMessage`: the ServerResponse @fastify/websocket assigned to the TCP socket of an
 * upgrade to route it through Fastify. Its 'finish' listener (Fastify's, for `onResponse`)
 * holds the reply and the request for the socket's whole life, about 3 KB a connection; the
 * reply is hijacked, so that response is never written or ended. Detaching it is what Node
 * does when a response completes. True when there was one to detach.
 */
export function detachUpgradeResponse (tcp: TcpSocket | undefined): boolean {
  const response = (tcp as (TcpSocket & { _httpMessage?: ServerResponse | null }) | undefined)?._httpMessage
  if (tcp === undefined || response === undefined || response === null) return false
  response.detachSocket(tcp)
  return true
}
