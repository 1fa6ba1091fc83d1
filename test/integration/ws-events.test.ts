import t from 'tap'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import type { EventPayload, TestClient } from '../helpers/client.js'
import { connectAs } from '../helpers/client.js'
import { post, startGateway } from '../helpers/gateway.js'

async function publish (url: string, events: Array<Record<string, unknown>>): Promise<string[]> {
  const res = await post(`${url}/events`, { events }, serviceToken())
  if (res.status !== 202) throw new Error(`publish failed: ${JSON.stringify(res.body)}`)
  return res.body.ids as string[]
}

/** Publishes a marker event and returns every event frame the client got before it. */
async function drainUntilMarker (client: TestClient, url: string, userId: string): Promise<EventPayload[]> {
  await publish(url, [{ type: 'system.marker', userId }])
  const seen: EventPayload[] = []
  for (;;) {
    const [event] = await client.events(1)
    if (event?.type === 'system.marker') return seen
    if (event !== undefined) seen.push(event)
  }
}

t.test('a user subscribes and receives a published event', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const reply = await alice.subscribe('authentication.*')
  t.same(reply.payload, { eventTypes: ['authentication.*'], position: gw.app.bus.positionOf('p0') }, 'where a resume would start')
  const res = await post(`${gw.url}/events`, { type: 'authentication.login.success', userId: 'alice', sessionId: 's1', data: { ip: '1.2.3.4' } }, serviceToken())
  t.equal(res.status, 202)
  const [event] = await alice.events(1)
  t.match(event, { type: 'authentication.login.success', userId: 'alice', sessionId: 's1', data: { ip: '1.2.3.4' } })
  t.same(res.body.ids, [event?.id])
  t.ok(Number.isFinite(Date.parse(event?.timestamp ?? '')), 'timestamp is ISO 8601')
})

t.test('subscribe, get_subscriptions, unsubscribe and ping echo the request id', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.same(await alice.subscribe('security.*', 'session.created', 'security.*'), { type: 'subscribed', id: 'r1', payload: { eventTypes: ['security.*', 'session.created'], position: gw.app.bus.positionOf('p0') } })
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: ['security.*', 'session.created'] })
  t.same(await alice.request('unsubscribe', { eventTypes: ['security.*', 'never.subscribed'] }), { type: 'unsubscribed', id: 'r3', payload: { eventTypes: ['security.*', 'never.subscribed'] } })
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: ['session.created'] })
  const pong = await alice.request('ping')
  t.equal(pong.type, 'pong')
  t.ok(Math.abs(Date.parse(pong.payload.serverTime as string) - Date.now()) < 5000)
  alice.send({ type: 'ping', id: 7 })
  t.equal((await alice.next((f) => f.id === 7)).type, 'pong', 'numeric ids are echoed too')
  alice.send({ type: 'ping' })
  t.same(Object.keys(await alice.next('pong')), ['type', 'payload'], 'no id, no id in the reply')
})

t.test('after unsubscribe nothing more is delivered for that pattern', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('security.*', 'system.marker')
  await publish(gw.url, [{ type: 'security.alert', userId: 'alice' }])
  t.equal((await alice.events(1))[0]?.type, 'security.alert')
  await alice.request('unsubscribe', { eventTypes: ['security.*'] })
  await publish(gw.url, [{ type: 'security.alert', userId: 'alice' }])
  t.same(await drainUntilMarker(alice, gw.url, 'alice'), [])
})

t.test('user isolation holds over many events', async (t) => {
  const gw = await startGateway(t)
  const users = ['alice', 'bob', 'carol']
  const clients = await Promise.all(users.map(async (u) => await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(u))))
  await Promise.all(clients.map(async (c) => await c.subscribe('*')))
  const events = Array.from({ length: 300 }, (_, i) => ({ type: 'authentication.login.success', userId: users[i % 3] as string, data: { n: i } }))
  for (let i = 0; i < events.length; i += 100) await publish(gw.url, events.slice(i, i + 100))
  for (const [index, client] of clients.entries()) {
    const got = await drainUntilMarker(client, gw.url, users[index] as string)
    t.equal(got.length, 100, `${users[index] as string} got exactly its own 100`)
    t.ok(got.every((e) => e.userId === users[index]), 'and nobody else\'s')
    t.same(got.map((e) => e.data.n), events.flatMap((e, n) => e.userId === users[index] ? [n] : []), 'in publish order')
  }
})

t.test('broadcasts reach every subscribed user; admin-only namespaces never reach user streams', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  const quiet = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('dave'))
  await alice.subscribe('*')
  await bob.subscribe('system.*')
  await quiet.subscribe('security.*', 'system.marker')
  await publish(gw.url, [
    { type: 'system.maintenance', data: { at: 'tonight' } },
    { type: 'admin.user.suspended', data: { userId: 'x' } },
    { type: 'admin.audit', userId: 'alice' }
  ])
  t.same((await drainUntilMarker(alice, gw.url, 'alice')).map((e) => e.type), ['system.maintenance'])
  t.same((await drainUntilMarker(bob, gw.url, 'bob')).map((e) => e.type), ['system.maintenance'])
  t.same(await drainUntilMarker(quiet, gw.url, 'dave'), [], 'not subscribed, not delivered')
})

t.test('the admin stream sees every event of every user and namespace', async (t) => {
  const gw = await startGateway(t)
  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken())
  await admin.subscribe('authentication.*', 'session.*', 'admin.*', 'system.*')
  await publish(gw.url, [
    { type: 'authentication.login.failed', userId: 'alice' },
    { type: 'session.created', userId: 'bob' },
    { type: 'admin.user.suspended' },
    { type: 'system.maintenance' }
  ])
  t.same((await admin.events(4)).map((e) => e.type), ['authentication.login.failed', 'session.created', 'admin.user.suspended', 'system.maintenance'])
})

t.test('heartbeat, the documents\' name for ping, is answered heartbeat_response', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  alice.send({ type: 'heartbeat', id: 'h1' })
  const reply = await alice.next((f) => f.id === 'h1')
  t.equal(reply.type, 'heartbeat_response')
  t.same(Object.keys(reply.payload), ['serverTime'], 'the payload of a pong')
  t.ok(Math.abs(Date.parse(reply.payload.serverTime as string) - Date.now()) < 5000)
  alice.send({ type: 'heartbeat' })
  t.same(Object.keys(await alice.next('heartbeat_response')), ['type', 'payload'], 'no id, no id in the reply')
})

t.test('overlapping patterns deliver an event once', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('*', 'security.*', 'security.alert', 'security.*.x')
  await publish(gw.url, [{ type: 'security.alert', userId: 'alice' }])
  t.same((await drainUntilMarker(alice, gw.url, 'alice')).map((e) => e.type), ['security.alert'])
})

t.test('bad requests get error frames and the connection stays usable', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const cases: Array<[string | Buffer, string]> = [
    ['not json', 'INVALID_MESSAGE'],
    ['[1,2]', 'INVALID_MESSAGE'],
    ['"text"', 'INVALID_MESSAGE'],
    ['{"payload":{}}', 'INVALID_MESSAGE'],
    ['{"type":42}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","payload":[1]}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","payload":{}}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","payload":{"eventTypes":"security.*"}}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","payload":{"eventTypes":["Security.*"]}}', 'INVALID_PATTERN'],
    ['{"type":"subscribe","payload":{"eventTypes":["a..b"]}}', 'INVALID_PATTERN'],
    ['{"type":"subscribe","payload":{"eventTypes":[{"$gt":""}]}}', 'INVALID_PATTERN'],
    ['{"type":"subscribe","payload":{"eventTypes":["admin.*"]}}', 'FORBIDDEN'],
    ['{"type":"launch_missiles"}', 'UNKNOWN_TYPE'],
    ['{"type":"__proto__"}', 'UNKNOWN_TYPE'],
    ['{"type":"constructor"}', 'UNKNOWN_TYPE']
  ]
  for (const [frame, code] of cases) {
    alice.send(frame)
    t.equal((await alice.next('error')).payload.code, code, String(frame))
  }
  alice.socket.send(Buffer.from([0, 1, 2]), { binary: true })
  t.equal((await alice.next('error')).payload.code, 'INVALID_MESSAGE', 'binary frame')
  alice.send({ type: 'subscribe', id: 'bad', payload: { eventTypes: ['x', 'Nope'] } })
  const error = await alice.next('error')
  t.equal(error.id, 'bad', 'errors echo the request id')
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: [] }, 'a refused subscribe subscribes nothing')
  t.equal((await alice.request('ping')).type, 'pong', 'still usable')
})

t.test('the subscription cap answers TOO_MANY_SUBSCRIPTIONS', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_MAX_SUBSCRIPTIONS: '2' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('a.*', 'b.*')
  const refused = await alice.subscribe('c.*')
  t.equal(refused.payload.code, 'TOO_MANY_SUBSCRIPTIONS')
  t.equal((await alice.subscribe('a.*')).type, 'subscribed', 'resubscribing an existing pattern is fine')
})
