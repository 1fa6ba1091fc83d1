import t, { type Test } from 'tap'
import { createClient, type RoomChange } from '../../src/client/index.js'
import { record, WebSocket } from '../helpers/client-support.js'
import { ScriptedGateway, type ScriptedSocket } from '../helpers/scripted-gateway.js'
import { within } from '../helpers/within.js'

/**
 * The client against a gateway played by the test, which can refuse what today's gateway
 * seldom refuses (a store that is down on a rejoin) and drop a socket between a request and
 * its answer.
 */
async function start (t: Test) {
  const gateway = await ScriptedGateway.start(t)
  const client = createClient({ url: gateway.url, getToken: () => 'token', WebSocket, auth: 'query', reconnect: { baseMs: 10, capMs: 50 } })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const changes: RoomChange[] = []
  client.on('rooms', (change) => { changes.push(change) })
  const socket = await gateway.socket(0)
  socket.connected()
  const subscribing = client.subscribe('room.*', () => {})
  await socket.subscribed({ position: '5-0' })
  await subscribing
  const joining = client.join('ops')
  socket.reply(await socket.next('join'), 'room_joined', { room: 'ops', role: 'write' })
  await joining
  /** Closes the socket; the client reconnects at once on socket `n`. */
  const reconnect = async (from: ScriptedSocket, n: number): Promise<ScriptedSocket> => {
    from.close(1012)
    const next = await gateway.socket(n)
    next.connected()
    return next
  }
  return { client, seen, changes, socket, reconnect }
}

t.test('the rooms are joined again before the resume; a store that is down is tried again on the same socket', async (t) => {
  const { seen, socket, reconnect } = await start(t)
  const next = await reconnect(socket, 1)
  const refused = await next.next('join')
  t.same(refused.payload, { room: 'ops' }, 'the room first')
  next.reply(refused, 'error', { code: 'UNAVAILABLE', message: 'the shared store is unreachable; retry shortly' })
  const again = await next.next('join')
  t.equal(next.requests.length, 2, 'no subscribe while the room is not joined')
  next.reply(again, 'room_joined', { room: 'ops', role: 'write' })
  const resume = await next.next('subscribe')
  t.same(resume.payload, { eventTypes: ['room.*'], since: '5-0' }, 'then the resume, from the position')
  t.same(seen.errors, [], 'a transient refusal is not reported')
})

t.test('a room refused on rejoin is reported and forgotten, and the resume goes on', async (t) => {
  const { client, seen, changes, socket, reconnect } = await start(t)
  const next = await reconnect(socket, 1)
  next.reply(await next.next('join'), 'error', { code: 'ROOM_FULL', message: 'room "ops" holds at most 2 members' })
  await next.subscribed()
  t.match(seen.errors, [{ code: 'ROOM_FULL', message: /ops/ }])
  t.same(changes, [{ room: 'ops', action: 'left', reason: 'ROOM_FULL' }])
  const third = await reconnect(next, 2)
  await third.next('subscribe')
  t.equal(third.requests.length, 1, 'no join of the forgotten room')
  await client.close()
})

t.test('publish rejects when its socket goes before the answer; rooms() asks the next socket', async (t) => {
  const { client, socket, reconnect } = await start(t)
  // Asserted at once: it rejects while the socket is replaced.
  const publishing = t.rejects(client.publish('ops', 'room.message', { text: 'hi' }, { idempotencyKey: 'k1' }), { code: 'CONNECTION_CLOSED' }, 'it may have been published: the caller decides')
  const sent = await socket.next('publish')
  t.same(sent.payload, { room: 'ops', type: 'room.message', data: { text: 'hi' }, idempotencyKey: 'k1' })
  const listing = client.rooms()
  await socket.next('get_rooms')
  const next = await reconnect(socket, 1)
  await within(publishing, 5000, 'the publish to settle')
  next.reply(await next.next('join'), 'room_joined', { room: 'ops', role: 'write' })
  await next.subscribed()
  next.reply(await next.next('get_rooms'), 'rooms', { rooms: [{ room: 'ops', role: 'write', joined: true }, { room: 'x', role: 'owner' }] })
  t.same(await within(listing, 5000, 'the rooms'), [{ room: 'ops', role: 'write', joined: true }], 'asked again; an entry it cannot read is left out')
})

t.test('a pending join rejects when the client closes; a closed client joins nothing', async (t) => {
  const { client, socket } = await start(t)
  const pending = t.rejects(client.join('incident-7'), { code: 'CLIENT_CLOSED' })
  await socket.next('join')
  await client.close()
  await pending
  await t.rejects(client.join('ops'), { code: 'CLIENT_CLOSED' })
  await t.rejects(client.publish('ops', 'room.message'), { code: 'CLIENT_CLOSED' })
})
