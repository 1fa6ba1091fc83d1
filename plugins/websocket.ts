import type { Socket } from 'node:net'
import websocket from '@fastify/websocket'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { detachUpgradeResponse } from '../src/private-apis.js'

type ErrorListener = (err: Error) => void

/** The 'error' listeners a socket has when its route handler receives it: @fastify/websocket's. */
export function upgradeListeners (socket: WebSocket): ErrorListener[] {
  return socket.listeners('error') as ErrorListener[]
}

/**
 * Lets go of the upgrade request once a socket session owns the socket and listens for its errors.
 * @fastify/websocket keeps it for the socket's whole life, about 3 KB a connection, through:
 * - the 'error' listener it adds before calling the route handler, a closure over the Fastify
 *   request and reply (for `errorHandler` below); the socket session's own listener replaces it;
 * - the ServerResponse it assigned to the TCP socket to route the upgrade through Fastify,
 *   which src/private-apis.ts detaches.
 * `errorHandler` still handles a route handler that throws: that path holds nothing afterwards.
 */
export function releaseUpgrade (socket: WebSocket, request: FastifyRequest, listeners: readonly ErrorListener[]): void {
  for (const listener of listeners) socket.removeListener('error', listener)
  // Absent when the request did not come from a TCP socket (`injectWS`).
  detachUpgradeResponse(request.raw.socket as Socket | undefined)
}

export default fp(async function websocketPlugin (app) {
  await app.register(websocket, {
    errorHandler (err, socket, request) {
      // A WS_ERR_* is the client breaking the protocol: ws has already sent the close frame
      // with its code (1009 too big, 1007 not UTF-8, 1002 bad frame) and the socket session logs it
      // at warn. The default handler would log it as our error and terminate() the socket,
      // which can cut that close frame off.
      const { code } = err as { code?: unknown }
      if (typeof code === 'string' && code.startsWith('WS_ERR_')) return
      request.log.error({ err }, 'websocket handler failed')
      socket.terminate()
    },
    options: {
      // WEBSOCKET_MAX_PAYLOAD: ws closes a socket that sends a larger frame with 1009 (message too big)
      // before buffering it whole, so one client cannot make the gateway hold megabytes.
      maxPayload: app.config.maxPayloadBytes,
      // Events are small JSON frames sent to many sockets; compression would cost CPU per socket.
      perMessageDeflate: false
    }
  })
  // After the shutdown plugin: its preClose hook must run before this plugin's, which closes
  // sockets without a code; the shutdown closes them with 1001 first.
}, { name: 'websocket', dependencies: ['config', 'shutdown'] })
