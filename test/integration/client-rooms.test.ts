import t from 'tap'
import { until } from '../../harness/ports.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { createClient, type GatewayEvent, type RoomChange } from '../../src/client/index.js'
import { record, WebSocket } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { post, startGateway } from '../helpers/gateway.js'

const FAST = { baseMs: 20, capMs: 200 }

/** Publishes one event into `groups` through `POST /events`; returns its id. */
async function publishInto (httpUrl: string, groups: string[], type: string, data: Record<string, unknown> = {}): Promise<string> {
  const res = await post(`${httpUrl}/events`, { events: [{ type, groups, data }] }, serviceToken())
  if (res.status !== 202) throw new Error(`POST /events answered ${res.status}: ${JSON.stringify(res.body)}`)
  return (res.body.ids as string[])[0] as string
}

t.test('join, publish and leave: another member receives the event with its room and sender', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const alice = createClient({ url: gw.url, getToken: () => userToken('alice', { rooms: { 'incident-42': 'write' } }), WebSocket, reconnect: FAST })
  const bob = createClient({ url: gw.url, getToken: () => userToken('bob', { groups: ['team-ops'], rooms: { 'incident-42': 'read' } }), WebSocket, reconnect: FAST })
  t.teardown(async () => { await Promise.all([alice.close(), bob.close()]) })
  const seenByAlice = record(alice)
  const messages: GatewayEvent[] = []
  await bob.subscribe('room.message', (event) => { messages.push(event) })
  t.same(await bob.join('incident-42'), { room: 'incident-42', role: 'read' })
  t.same(bob.groups, ['team-ops'], 'the groups of the token, from connected')
  t.same(await alice.join('incident-42'), { room: 'incident-42', role: 'write' })

  const id = await alice.publish('incident-42', 'room.message', { text: 'on it' }, { idempotencyKey: 'msg-1' })
  await until(() => messages.length === 1, 5000, 'bob to receive the message')
  t.match(messages[0], { id, type: 'room.message', groups: ['incident-42'], sender: 'alice', data: { text: 'on it' } })
  t.equal(await alice.publish('incident-42', 'room.message', { text: 'on it' }, { idempotencyKey: 'msg-1' }), id, 'a repeated key gives the first id')

  await t.rejects(bob.publish('incident-42', 'room.message'), { name: 'EventgateError', code: 'FORBIDDEN' }, 'role read does not publish')
  await t.rejects(alice.join('war-room'), { code: 'FORBIDDEN' }, 'a room the token does not grant')
  await t.rejects(alice.join('not a room'), { code: 'INVALID_MESSAGE' })
  await t.rejects(bob.leave('team-ops'), { code: 'FORBIDDEN' }, 'a group of the token is not left')
  t.same(await alice.rooms(), [{ room: 'incident-42', role: 'write', joined: true }])

  await alice.leave('incident-42')
  t.same(await alice.rooms(), [{ room: 'incident-42', role: 'write', joined: false }])
  t.same(seenByAlice.errors, [])
})

t.test('a reconnect joins the rooms again before it resumes: a room event published meanwhile arrives once', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  let gate: Promise<void> = Promise.resolve()
  let open: () => void = () => {}
  // Holds the reconnect until the test has published: getToken is called for every connect.
  const getToken = async (): Promise<string> => {
    await gate
    return userToken('alice', { rooms: { ops: 'read', 'incident-7': 'read' } })
  }
  const client = createClient({ url: gw.url, getToken, WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const messages: GatewayEvent[] = []
  await client.subscribe('room.message', (event) => { messages.push(event) })
  await client.join('ops')
  await client.join('incident-7')
  const before = await publishInto(gw.url, ['ops'], 'room.message', { n: 1 })
  await until(() => messages.length === 1, 5000, 'the first room event')

  gate = new Promise((resolve) => { open = resolve })
  for (const connection of gw.app.hub.each()) connection.socket.terminate()
  await until(() => seen.states.includes('reconnecting'), 5000, 'the client to notice')
  const missed = [
    await publishInto(gw.url, ['ops'], 'room.message', { n: 2 }),
    await publishInto(gw.url, ['incident-7'], 'room.message', { n: 3 })
  ]
  open()
  await until(() => messages.length === 3, 5000, 'the room events published while the socket was down')
  t.same(messages.map((e) => e.id), [before, ...missed], 'each once, in order')
  const [connection] = [...gw.app.hub.each()]
  t.same([...connection?.rooms.keys() ?? []].sort(), ['incident-7', 'ops'], 'the new socket is in both rooms again')
  const live = await publishInto(gw.url, ['ops'], 'room.message', { n: 4 })
  await until(() => messages.length === 4, 5000, 'the next live room event')
  t.equal(messages[3]?.id, live)
  t.same(seen.errors, [])
})

t.test('a room refused on rejoin is reported and forgotten; the others go on', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  let rooms: Record<string, string> = { ops: 'read', 'incident-7': 'read' }
  const client = createClient({ url: gw.url, getToken: () => userToken('alice', { rooms }), WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const changes: RoomChange[] = []
  client.on('rooms', (change) => { changes.push(change) })
  const messages: GatewayEvent[] = []
  await client.subscribe('room.*', (event) => { messages.push(event) })
  await client.join('ops')
  await client.join('incident-7')

  rooms = { ops: 'read' }
  for (const connection of gw.app.hub.each()) connection.socket.terminate()
  await until(() => changes.length === 1, 5000, 'the refused room to be reported')
  t.same(changes, [{ room: 'incident-7', action: 'left', reason: 'FORBIDDEN' }])
  t.match(seen.errors, [{ code: 'FORBIDDEN', message: /incident-7/ }])
  t.same(await client.rooms(), [{ room: 'ops', role: 'read', joined: true }], 'ops is joined again')
  const id = await publishInto(gw.url, ['ops'], 'room.note')
  await until(() => messages.some((e) => e.id === id), 5000, 'ops events to flow')

  rooms = { ops: 'read', 'incident-7': 'read' }
  for (const connection of gw.app.hub.each()) connection.socket.terminate()
  await until(() => seen.states.filter((s) => s === 'open').length === 3, 5000, 'the third socket')
  t.same(await client.rooms(), [{ room: 'ops', role: 'read', joined: true }, { room: 'incident-7', role: 'read', joined: false }], 'the forgotten room is not joined again')
  t.equal(seen.errors.length, 1)
})

t.test('a reauthentication that no longer grants a room: room_left, the room forgotten; a new group: room_joined', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, TOKEN_EXPIRY_WARNING: '2000' })
  let calls = 0
  const getToken = (): string => {
    const exp = Math.floor(Date.now() / 1000) + 3
    return ++calls === 1
      ? userToken('alice', { exp, groups: ['team'], rooms: { ops: 'read' } })
      : userToken('alice', { exp: exp + 3600, groups: ['team', 'night-shift'] })
  }
  const client = createClient({ url: gw.url, getToken, WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const changes: RoomChange[] = []
  client.on('rooms', (change) => { changes.push(change) })
  await client.join('ops')
  t.same(client.groups, ['team'])

  await until(() => changes.length === 2, 8000, 'the room pushes of the reauthentication')
  t.same(changes, [{ room: 'ops', action: 'left', reason: 'revoked' }, { room: 'night-shift', action: 'joined', role: 'read' }])
  t.same(client.groups, ['team', 'night-shift'])
  t.same(seen.states, ['open'], 'on the same socket')

  for (const connection of gw.app.hub.each()) connection.socket.terminate()
  await until(() => seen.states.filter((s) => s === 'open').length === 2, 5000, 'the next socket')
  t.same((await client.rooms()).map((r) => [r.room, r.joined]), [['team', true], ['night-shift', true]], 'ops is not joined again')
  t.same(seen.errors, [], 'no rejoin of the revoked room was tried')
})
