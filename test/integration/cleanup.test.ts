import type { Socket } from 'node:net'
import t from 'tap'
import type { WebSocket } from 'ws'
import { until } from '../../harness/ports.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { loadConfig } from '../../src/config.js'
import { connectAs } from '../helpers/client.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'

/** The server side of the one socket the gateway holds. */
function serverSocket (gw: Gateway): WebSocket {
  const [socket] = gw.app.websocketServer.clients
  if (socket === undefined) throw new Error('no socket')
  return socket
}

t.test('the sweep drops a closed socket whose close listeners never ran, with its subscriptions', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_CLEANUP_INTERVAL: '50' })
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await client.subscribe('a.*', 'b.*')
  t.match(gw.app.hub.stats(), { connections: 1, subscriptions: 2 })
  const socket = serverSocket(gw)
  socket.removeAllListeners('close')
  client.close()
  await client.closed
  await until(() => socket.readyState === socket.CLOSED, 2000, 'the server side closed')
  await until(() => gw.app.hub.size === 0, 2000, 'the sweep to drop it')
  t.match(gw.app.hub.stats(), { connections: 0, users: 0, subscriptions: 0 })
  // Shutdown does not wait for a 'close' that was already emitted.
  await gw.close()
})

t.test('the sweep terminates a socket stuck closing, long before ws gives up on it (30 s)', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_CLEANUP_INTERVAL: '50' })
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  // It stops reading, so it never answers the close frame the revocation sends.
  ;(client.socket as unknown as { _socket: Socket })._socket.pause()
  const socket = serverSocket(gw)
  t.equal((await post(`${gw.url}/sessions/session-alice/revoke`, {}, serviceToken())).status, 202)
  await until(() => socket.readyState === socket.CLOSING, 2000, 'the server to close it')
  await until(() => socket.readyState === socket.CLOSED, 2000, 'the sweep to terminate it')
  t.equal(gw.app.hub.size, 0)
})

t.test('WEBSOCKET_CLEANUP_INTERVAL, WEBSOCKET_MAX_BUFFERED_BYTES and SHUTDOWN_TIMEOUT: defaults and bounds', async (t) => {
  t.match(loadConfig({}), { cleanupIntervalMs: 60_000, maxBufferedBytes: 1_048_576, shutdownTimeoutMs: 10_000 })
  t.match(loadConfig({ WEBSOCKET_CLEANUP_INTERVAL: '250', WEBSOCKET_MAX_BUFFERED_BYTES: '65536', SHUTDOWN_TIMEOUT: '3000' }), { cleanupIntervalMs: 250, maxBufferedBytes: 65_536, shutdownTimeoutMs: 3000 })
  const bad: Array<[string, string]> = [['WEBSOCKET_CLEANUP_INTERVAL', '0'], ['WEBSOCKET_MAX_BUFFERED_BYTES', '1000'], ['SHUTDOWN_TIMEOUT', 'soon']]
  for (const [variable, value] of bad) {
    t.throws(() => loadConfig({ [variable]: value }), { name: 'ConfigError', variable }, `${variable}=${value}`)
  }
})
