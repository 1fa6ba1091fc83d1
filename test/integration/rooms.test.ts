import t, { type Test } from 'tap'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs, type Frame, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'

const publish = async (gw: Gateway, body: unknown) => await post(`${gw.url}/events`, body, serviceToken())
const isEvent = (type: string) => (f: Frame): boolean => f.type === 'event' && f.payload.type === type

/** A user stream whose token grants `claims` (`groups`, `rooms`), subscribed to `patterns`. */
async function member (t: Test, gw: Gateway, userId: string, claims: Record<string, unknown>, ...patterns: string[]): Promise<TestClient> {
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(userId, claims))
  // Every member also hears the markers `settle` sends.
  if (patterns.length > 0) await client.subscribe(...patterns, 'marker.*')
  return client
}

/** A marker broadcast, and the frames that came before it: what arrived is then known to be all. */
async function settle (gw: Gateway, ...clients: TestClient[]): Promise<void> {
  const marker = `marker.${Math.random().toString(36).slice(2)}`
  const { body } = await publish(gw, { type: marker })
  t.ok(Array.isArray(body.ids))
  await Promise.all(clients.map(async (c) => await c.next(isEvent(marker))))
}

const eventTypes = (client: TestClient): string[] => client.frames.filter((f) => f.type === 'event' && !(f.payload.type as string).startsWith('marker.')).map((f) => f.payload.type as string)
const presenceOf = (type: string, userId: string) => (f: Frame): boolean => isEvent(type)(f) && (f.payload.data as { userId?: string }).userId === userId

t.test('an event for a room reaches its members alone; two rooms and wildcards never mix', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const red = await member(t, gw, 'alice', { groups: ['red'] }, '*')
  const blue = await member(t, gw, 'bob', { groups: ['blue'] }, 'incident.*', 'room.*')
  const outsider = await member(t, gw, 'carol', {}, '*', 'incident.*')
  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken('root'))
  await admin.subscribe('incident.*')
  t.equal((await publish(gw, { type: 'incident.opened', groups: ['red'], data: { n: 1 } })).status, 202)
  t.equal((await publish(gw, { type: 'incident.opened', room: 'blue', data: { n: 2 } })).status, 202)
  t.equal((await publish(gw, { events: [{ type: 'incident.closed', groups: ['red', 'blue'] }] })).status, 202)
  await settle(gw, red, blue, outsider)
  t.same(red.frames.filter(isEvent('incident.opened')).map((f) => f.payload.data), [{ n: 1 }])
  t.same(blue.frames.filter(isEvent('incident.opened')).map((f) => f.payload.data), [{ n: 2 }])
  t.match(blue.frames.filter(isEvent('incident.opened'))[0]?.payload, { groups: ['blue'] }, '`room` comes back as `groups`')
  t.equal(red.frames.filter(isEvent('incident.closed')).length, 1)
  t.equal(blue.frames.filter(isEvent('incident.closed')).length, 1)
  t.same(eventTypes(outsider).filter((type) => type.startsWith('incident.')), [], 'a non-member, even subscribed to *')
  t.same((await admin.events(3)).map((e) => e.type), ['incident.opened', 'incident.opened', 'incident.closed'], 'admin streams see room events')
})

t.test('publishing to rooms: the body names rooms by `groups` or `room`, never both, always valid names', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  t.match(await publish(gw, { type: 'x.y', room: 'a', groups: ['b'] }), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'room' } })
  t.match(await publish(gw, { events: [{ type: 'x.y' }, { type: 'x.y', room: 'a', groups: ['a'] }] }), { status: 400, body: { field: 'events.1.room' } })
  t.match(await publish(gw, { type: 'x.y', room: 'a b' }), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY' } })
  t.match(await publish(gw, { type: 'x.y', groups: [] }), { status: 400 })
  t.match(await publish(gw, { type: 'x.y', groups: Array.from({ length: 17 }, (_, i) => `r${i}`) }), { status: 400 })
  const notified = await member(t, gw, 'dave', { groups: ['ops'] }, 'notification.*')
  t.equal((await post(`${gw.url}/notifications`, { room: 'ops', type: 'warning', title: 'Disk', message: 'almost full' }, serviceToken())).status, 202)
  t.match((await notified.events(1))[0], { type: 'notification.group', groups: ['ops'], data: { level: 'warning', title: 'Disk' } })
})

t.test('join, leave and presence: the token says which rooms, the members see who comes and goes', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const watcher = await member(t, gw, 'wendy', { rooms: { 'incident-42': 'read' } }, 'room.*', 'incident.*')
  t.match(await watcher.request('join', { room: 'incident-42' }), { type: 'room_joined', payload: { room: 'incident-42', role: 'read', position: /./ } })
  const alice = await member(t, gw, 'alice', { rooms: { 'incident-42': 'write' } }, 'incident.*')
  t.match(await alice.request('join', { room: 'nope' }), { type: 'error', payload: { code: 'FORBIDDEN' } })
  t.match(await alice.request('join', { room: 'a b' }), { type: 'error', payload: { code: 'INVALID_MESSAGE' } })
  await publish(gw, { type: 'incident.update', room: 'incident-42', data: { n: 1 } })
  const joined = await alice.request('join', { room: 'incident-42' })
  t.match(joined, { type: 'room_joined', payload: { room: 'incident-42', role: 'write' } })
  t.match((await watcher.next(presenceOf('room.user_joined', 'alice'))).payload, { groups: ['incident-42'], data: { room: 'incident-42', userId: 'alice' } })
  t.match(await alice.request('join', { room: 'incident-42' }), { type: 'room_joined' }, 'joining again is no error')
  await publish(gw, { type: 'incident.update', room: 'incident-42', data: { n: 2 } })
  t.same((await alice.events(1)).map((e) => e.data), [{ n: 2 }], 'only what came after the join')
  t.match(await alice.request('get_rooms'), { type: 'rooms', payload: { rooms: [{ room: 'incident-42', role: 'write', joined: true }] } })
  t.match(await alice.request('leave', { room: 'incident-42' }), { type: 'room_left', payload: { room: 'incident-42' } })
  t.match((await watcher.next(presenceOf('room.user_left', 'alice'))).payload, { data: { room: 'incident-42', userId: 'alice' } })
  await publish(gw, { type: 'incident.update', room: 'incident-42', data: { n: 3 } })
  await settle(gw, alice)
  t.same(alice.frames.filter(isEvent('incident.update')), [], 'nothing after leaving')
  // A closed socket leaves its rooms too.
  const bob = await member(t, gw, 'bob', { rooms: { 'incident-42': 'read' } })
  await bob.request('join', { room: 'incident-42' })
  await watcher.next(presenceOf('room.user_joined', 'bob'))
  bob.close()
  t.match((await watcher.next(presenceOf('room.user_left', 'bob'))).payload, { data: { room: 'incident-42' } })
})

t.test('a group of the token is joined from the start and cannot be left', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { groups: ['team-a'] }))
  t.match(await client.request('leave', { room: 'team-a' }), { type: 'error', payload: { code: 'FORBIDDEN' } })
  t.match(await client.request('get_rooms'), { payload: { rooms: [{ room: 'team-a', role: 'read', joined: true }] } })
})

t.test('publishing over the socket: the role decides, the gateway signs it with the sender', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const grants = { rooms: { war: 'write', hq: 'admin', lobby: 'read' } }
  const writer = await member(t, gw, 'alice', grants)
  const reader = await member(t, gw, 'bob', { groups: ['war', 'hq', 'lobby'] }, '*')
  const sent = await writer.request('publish', { room: 'war', type: 'room.message', data: { text: '<b>hi</b>' } })
  t.match(sent, { type: 'published', payload: { id: /^\d+-\d+$/ } })
  const event = (await reader.next(isEvent('room.message'))).payload
  t.match(event, { id: sent.payload.id, type: 'room.message', groups: ['war'], sender: 'alice', data: { text: '<b>hi</b>' } })
  t.equal(event.userId, undefined, 'a room event, not one of the sender\'s')
  t.match(await writer.request('publish', { room: 'war', type: 'incident.status' }), { payload: { code: 'FORBIDDEN', message: /role admin/ } })
  t.match(await writer.request('publish', { room: 'hq', type: 'incident.status', data: { open: true } }), { type: 'published' })
  t.match(await writer.request('publish', { room: 'hq', type: 'security.alert' }), { payload: { code: 'FORBIDDEN', message: /backend services/ } })
  t.match(await writer.request('publish', { room: 'hq', type: 'room.user_joined' }), { payload: { code: 'FORBIDDEN' } })
  t.match(await writer.request('publish', { room: 'lobby', type: 'room.message' }), { payload: { code: 'FORBIDDEN', message: /needs role write/ } })
  t.match(await writer.request('publish', { room: 'elsewhere', type: 'room.message' }), { payload: { code: 'FORBIDDEN' } })
  t.match(await writer.request('publish', { room: 'war', type: 'Room Message' }), { payload: { code: 'INVALID_MESSAGE', message: /event type/ } })
  t.match(await writer.request('publish', { room: 'war', type: 'room.message', data: [1] }), { payload: { code: 'INVALID_MESSAGE', message: /object/ } })
  t.match(await writer.request('publish', { room: 'war', type: 'room.message', data: { big: 'x'.repeat(40_000) } }), { payload: { code: 'INVALID_MESSAGE', message: /at most 32768 bytes/ } })
  const retried = await writer.request('publish', { room: 'war', type: 'room.message', idempotencyKey: 'k1' })
  t.same((await writer.request('publish', { room: 'war', type: 'room.message', idempotencyKey: 'k1' })).payload, retried.payload, 'a retry with its key gets the same id')
  await settle(gw, reader)
  t.same(eventTypes(reader).filter((type) => type !== 'room.user_joined'), ['incident.status', 'room.message'], 'nothing refused was delivered (the first taken above), the retry once')
})

t.test('limits: rooms per connection, members per room, events per user per minute', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, ROOM_MAX_JOINED: '2', ROOM_MAX_MEMBERS: '2', ROOM_PUBLISH_LIMIT: '5' })
  const rooms = { r1: 'write', r2: 'read', r3: 'read' }
  const a = await member(t, gw, 'alice', { rooms })
  t.match(await a.request('join', { room: 'r1' }), { type: 'room_joined' })
  t.match(await a.request('join', { room: 'r2' }), { type: 'room_joined' })
  t.match(await a.request('join', { room: 'r3' }), { payload: { code: 'TOO_MANY_ROOMS' } })
  const b = await member(t, gw, 'bob', { rooms })
  t.match(await b.request('join', { room: 'r1' }), { type: 'room_joined' })
  const c = await member(t, gw, 'carol', { rooms })
  t.match(await c.request('join', { room: 'r1' }), { payload: { code: 'ROOM_FULL', message: /at most 2 members/ } })
  b.close()
  await b.closed
  // The slot goes back with the socket.
  t.match(await c.request('join', { room: 'r1' }), { type: 'room_joined' })
  // alice spent 2 of 5 on joins: three publishes pass, the fourth is refused.
  for (let i = 0; i < 3; i++) t.match(await a.request('publish', { room: 'r1', type: 'room.message' }), { type: 'published' })
  t.match(await a.request('publish', { room: 'r1', type: 'room.message' }), { payload: { code: 'RATE_LIMITED', message: /5 events per minute/ } })
  const again = await member(t, gw, 'alice', { rooms })
  t.match(await again.request('publish', { room: 'r1', type: 'room.message' }), { payload: { code: 'RATE_LIMITED' } }, 'per user, not per socket')
})

t.test('reauthenticate reads the rooms again: a room no longer granted is left, a new group entered', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = await member(t, gw, 'alice', { groups: ['g1'], rooms: { r1: 'read', r2: 'read' } }, '*')
  await client.request('join', { room: 'r1' })
  await client.request('join', { room: 'r2' })
  const reply = await client.request('reauthenticate', { token: userToken('alice', { groups: ['g2'], rooms: { r2: 'write' } }) })
  t.equal(reply.type, 'reauthenticated')
  const pushes = [await client.next('room_left'), await client.next('room_left'), await client.next('room_joined')]
  t.same(pushes.map((f) => [f.type, f.payload.room, f.payload.reason]).sort(), [['room_joined', 'g2', undefined], ['room_left', 'g1', 'revoked'], ['room_left', 'r1', 'revoked']].sort())
  await publish(gw, { type: 'x.one', groups: ['r1', 'g1'] })
  await publish(gw, { type: 'x.two', groups: ['g2'] })
  await publish(gw, { type: 'x.three', groups: ['r2'] })
  await settle(gw, client)
  t.same(eventTypes(client).filter((type) => type.startsWith('x.')), ['x.two', 'x.three'])
  t.match(await client.request('publish', { room: 'r2', type: 'room.message' }), { type: 'published' }, 'the new role applies')
})

t.test('room events are in the history: a member that resumes gets what it missed, nobody else\'s', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const first = await member(t, gw, 'alice', { groups: ['red'] }, '*')
  t.equal((await publish(gw, { type: 'x.start', groups: ['red'] })).status, 202)
  const start = (await first.next(isEvent('x.start'))).payload.id as string
  first.close()
  await publish(gw, { type: 'x.missed', groups: ['red'] })
  await publish(gw, { type: 'x.other', groups: ['blue'] })
  await publish(gw, { type: 'x.mine', userId: 'alice' })
  const back = await member(t, gw, 'alice', { groups: ['red'] })
  const resumed = await back.request('subscribe', { eventTypes: ['x.*'], since: start })
  t.match(resumed, { type: 'subscribed', payload: { replayed: 2, truncated: false } })
  t.same((await back.events(2)).map((e) => e.type), ['x.missed', 'x.mine'])
})
