import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { type PerMessageDeflateOptions, WebSocket, WebSocketServer } from 'ws'
import { until } from '../../harness/ports.js'
import { Connection, type Socket } from '../../src/connection.js'
import type { Log } from '../../src/logging.js'
import { detachUpgradeResponse, writePreparedFrame } from '../../src/private-apis.js'
import { EventFrame } from '../../src/protocol.js'
import { within } from '../helpers/within.js'

const log: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => log }
const identity = { userId: 'alice', sessionId: 's1', roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }

interface Pair { server: WebSocket, client: WebSocket, messages: string[] }

/** A real ws server and client on a loopback port, as the gateway runs them (no compression unless asked). */
async function pair (t: Test, perMessageDeflate: boolean | PerMessageDeflateOptions = false): Promise<Pair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate })
  t.teardown(async () => { await new Promise((resolve) => { wss.close(resolve) }) })
  await once(wss, 'listening')
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: perMessageDeflate !== false })
  t.teardown(() => { client.terminate() })
  const messages: string[] = []
  client.on('message', (data, isBinary) => { messages.push(`${isBinary ? 'binary' : 'text'} ${String(data)}`) })
  await within(once(client, 'open'), 2000, 'the client to open')
  const [server] = await within(accepted, 2000, 'the server to accept')
  return { server, client, messages }
}

const frameOf = (text: string): EventFrame => new EventFrame(Buffer.from(text))

t.test('ws\'s sender takes a prepared frame on a real socket, and the client reads it as text', async (t) => {
  const { server, messages } = await pair(t)
  t.equal(writePreparedFrame(server, frameOf('{"n":1}')), true, 'the fast path is open on this ws version')
  await until(() => messages.length > 0, 2000, 'the frame')
  t.same(messages, ['text {"n":1}'])
})

t.test('a connection sends event frames through the fast path, not through ws\'s send', async (t) => {
  const { server, messages } = await pair(t)
  const connection = new Connection('c1', server as unknown as Socket, identity, 'events', log)
  const sends = t.capture(server, 'send')
  connection.sendFrame(frameOf('{"n":1}'))
  connection.sendFrame(frameOf('{"n":2}'))
  await until(() => messages.length === 2, 2000, 'both frames')
  t.same(messages, ['text {"n":1}', 'text {"n":2}'])
  t.equal(sends().length, 0, 'ws\'s send was never called')
})

t.test('a prepared frame waits its turn behind a frame ws is still compressing', async (t) => {
  const { server, messages } = await pair(t, { threshold: 0 })
  const connection = new Connection('c1', server as unknown as Socket, identity, 'events', log)
  server.send('x'.repeat(64 * 1024), { compress: true })
  t.equal(writePreparedFrame(server, frameOf('{"n":1}')), false, 'the sender is busy: no prepared frame now')
  connection.sendFrame(frameOf('{"n":2}'))
  await until(() => messages.length === 2, 2000, 'both frames')
  t.same(messages, [`text ${'x'.repeat(64 * 1024)}`, 'text {"n":2}'], 'in the order sent')
})

t.test('the response @fastify/websocket assigned to an upgrade\'s TCP socket is detached', async (t) => {
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  await app.register(websocket)
  const detached: boolean[] = []
  app.get('/ws', { websocket: true }, (socket, request) => {
    detached.push(detachUpgradeResponse(request.raw.socket), detachUpgradeResponse(request.raw.socket))
    socket.close(1000, 'done')
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const client = new WebSocket(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws`)
  const [code] = await within(once(client, 'close') as Promise<[number]>, 2000, 'the socket to close')
  t.equal(code, 1000)
  t.same(detached, [true, false], 'there was one to detach on this Node version, and then none')
  t.equal(detachUpgradeResponse(undefined), false, 'no TCP socket (injectWS)')
})
