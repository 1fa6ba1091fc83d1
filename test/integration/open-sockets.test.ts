import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { OpenSockets } from '../../src/open-sockets.js'
import { within } from '../helpers/within.js'

/** A ws server on port 0; `pair()` connects a client and resolves with both ends. */
async function server (t: Test) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  const clients: WebSocket[] = []
  t.teardown(async () => {
    for (const client of clients) client.terminate()
    await new Promise((resolve) => wss.close(resolve))
  })
  const { port } = wss.address() as AddressInfo
  return async function pair (): Promise<{ client: WebSocket, socket: WebSocket }> {
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    clients.push(client)
    client.on('error', () => {})
    await once(client, 'open')
    const [socket] = await accepted
    return { client, socket }
  }
}

t.test('waits for each socket\'s close, not for one already closed; a closed one gives its slot back', async (t) => {
  const pair = await server(t)
  const released: string[] = []
  const open = new OpenSockets((userId, connectionId) => { released.push(`${userId}/${connectionId}`) })
  const [first, second, gone] = [await pair(), await pair(), await pair()]
  gone.socket.terminate()
  await once(gone.socket, 'close')
  for (const { socket } of [first, second, gone]) open.add(socket)
  first.socket.once('close', () => { open.closed(first.socket, 'alice', 'c1') })
  t.equal(open.size, 3)

  let done = false
  const closed = open.allClosed().then(() => { done = true })
  first.socket.close(1001, 'server_shutting_down')
  await once(first.socket, 'close')
  t.same(released, ['alice/c1'])
  t.equal(open.size, 2)
  t.notOk(done, 'one socket is still open')
  second.socket.close(1001, 'server_shutting_down')
  await within(closed, 2000, 'every socket closed')
})

t.test('terminate ends the sockets that never answer their close', async (t) => {
  const pair = await server(t)
  const open = new OpenSockets(() => {})
  const { client, socket } = await pair()
  // The client stops reading: the close frame waits in the kernel, unanswered.
  ;(client as unknown as { _socket: Socket })._socket.pause()
  open.add(socket)
  const closed = open.allClosed()
  socket.close(1001, 'server_shutting_down')
  open.terminate()
  await within(closed, 2000, 'the terminated socket closed')
  t.equal(socket.readyState, socket.CLOSED)
})
