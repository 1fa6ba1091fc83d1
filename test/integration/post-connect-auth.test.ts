import t from 'tap'
import { WebSocket } from 'ws'
import { until } from '../../harness/ports.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connectAs, TestClient } from '../helpers/client.js'
import { post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const FORGED = token({ sub: 'alice' }, 'a-secret-the-gateway-does-not-know-0123456789')

type Teardown = Parameters<typeof connectAs>[0]

/** Opens a socket without any credential: the gateway sends nothing until it authenticates. */
async function openPending (t: Teardown, url: string, from?: string): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, from === undefined ? {} : { headers: { 'x-forwarded-for': from } }))
  t.teardown(() => { client.socket.terminate() })
  await within(new Promise((resolve, reject) => {
    client.socket.once('open', resolve)
    client.socket.once('close', reject)
  }), 5000, 'the socket to open')
  return client
}

t.test('a socket opened without a token authenticates, then subscribes and receives', async (t) => {
  const gw = await startGateway(t)
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  t.equal(gw.app.hub.size, 0, 'a pending socket is no connection')
  client.send({ type: 'authenticate', payload: { token: userToken('alice') } })
  t.equal((await client.next('connected')).payload.userId, 'alice')
  await client.subscribe('order.*')
  t.equal((await post(`${gw.url}/events`, { type: 'order.created', userId: 'alice', data: { n: 1 } }, serviceToken())).status, 202)
  t.match(await client.events(1), [{ type: 'order.created', data: { n: 1 } }])
  t.equal(gw.app.pendingSockets.size, 0, 'its pending place is free')
})

t.test('`auth` is understood, and a request sent right behind it is answered as the user', async (t) => {
  const gw = await startGateway(t)
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  client.send({ type: 'auth', payload: { token: userToken('bob') } })
  const subscribed = client.subscribe('order.*')
  t.equal((await client.next('connected')).payload.userId, 'bob')
  t.match(await subscribed, { type: 'subscribed' })
})

t.test('before authentication every other frame is refused UNAUTHORIZED and nothing is delivered', async (t) => {
  const gw = await startGateway(t)
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  t.match(await client.subscribe('order.*'), { type: 'error', payload: { code: 'UNAUTHORIZED' } })
  t.match(await client.request('ping'), { type: 'error', payload: { code: 'UNAUTHORIZED' } })
  t.equal((await post(`${gw.url}/events`, { type: 'order.created', data: {} }, serviceToken())).status, 202)
  t.match(await client.request('get_subscriptions'), { type: 'error', payload: { code: 'UNAUTHORIZED' } })
  t.same(client.frames, [], 'no event, no other frame')
})

t.test('a wrong token is answered UNAUTHORIZED, counted, and the socket stays pending', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_COOLDOWN: '60000' })
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  for (let i = 0; i < 2; i++) {
    t.match(await client.request('authenticate', { token: FORGED }), { type: 'error', payload: { code: 'UNAUTHORIZED', message: 'token_invalid' } })
  }
  t.equal(await gw.app.store.get('authfail:127.0.0.1'), '2', 'each counted against the address')
  client.send({ type: 'authenticate', payload: { token: userToken('alice') } })
  t.equal((await client.next('connected')).payload.userId, 'alice', 'still pending: a good token opens it')

  const other = await openPending(t, `${gw.wsUrl}/ws/events`)
  t.match(await other.request('authenticate', { token: FORGED }), { payload: { code: 'UNAUTHORIZED' } }, 'the third reaches the limit')
  other.send({ type: 'authenticate', payload: { token: FORGED } })
  t.same(await within(other.closed, 5000, 'the close'), { code: 1008, reason: 'too_many_auth_failures' })
  t.match(await post(`${gw.url}/events`, { type: 'a.b' }, FORGED), { status: 429 }, 'the address is blocked')
})

t.test('a socket that does not authenticate in time is closed 4001 auth_timeout', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_AUTH_TIMEOUT: '200' })
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  t.same(await within(client.closed, 5000, 'the close'), { code: 4001, reason: 'auth_timeout' })
  await until(() => gw.app.pendingSockets.size === 0, 2000, 'the place freed')
})

t.test('pending sockets are capped per address and per instance', async (t) => {
  const gw = await startGateway(t, { TRUST_PROXY: '127.0.0.1', WEBSOCKET_MAX_UNAUTHENTICATED_PER_IP: '2', WEBSOCKET_MAX_UNAUTHENTICATED: '3' })
  const url = `${gw.wsUrl}/ws/events`
  await openPending(t, url, '10.0.0.1')
  await openPending(t, url, '10.0.0.1')
  const third = await openPending(t, url, '10.0.0.1')
  t.same(await within(third.closed, 5000, 'the close'), { code: 1013, reason: 'too_many_unauthenticated' }, 'per address')
  await openPending(t, url, '10.0.0.2')
  const fourth = await openPending(t, url, '10.0.0.3')
  t.same(await within(fourth.closed, 5000, 'the close'), { code: 1013, reason: 'too_many_unauthenticated' }, 'per instance')
  t.equal(gw.app.pendingSockets.size, 3)
  await connectAs(t, url, userToken('alice'))
})

t.test('a user token authenticated on /ws/admin is closed 4003', async (t) => {
  const gw = await startGateway(t)
  const user = await openPending(t, `${gw.wsUrl}/ws/admin`)
  user.send({ type: 'authenticate', payload: { token: userToken('alice') } })
  t.same(await within(user.closed, 5000, 'the close'), { code: 4003, reason: 'admin_required' })
  const admin = await openPending(t, `${gw.wsUrl}/ws/admin`)
  admin.send({ type: 'authenticate', payload: { token: adminToken() } })
  t.equal((await admin.next('connected')).payload.userId, 'admin-1')
})

t.test('a valid token meets the user\'s slots at that moment: 4008 when they are all held', async (t) => {
  const gw = await startGateway(t, { MAX_CONNECTIONS_PER_USER: '1' })
  await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const late = await openPending(t, `${gw.wsUrl}/ws/events`)
  late.send({ type: 'authenticate', payload: { token: userToken('alice') } })
  t.same(await within(late.closed, 5000, 'the close'), { code: 4008, reason: 'too_many_connections' })
})

t.test('a pending socket may send a few frames, then it is closed 1008', async (t) => {
  const gw = await startGateway(t)
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  for (let i = 0; i < 11; i++) client.send({ type: 'ping', id: i })
  t.same(await within(client.closed, 5000, 'the close'), { code: 1008, reason: 'auth_frame_budget' })
  t.equal(client.frames.filter((f) => f.payload.code === 'UNAUTHORIZED').length, 10, 'each of the 10 answered first')
})

t.test('a shutdown tells a socket still waiting for authenticate 1001, as it does the others', async (t) => {
  const gw = await startGateway(t)
  const client = await openPending(t, `${gw.wsUrl}/ws/events`)
  const closed = new Promise<number>((resolve) => { client.socket.once('close', resolve) })
  await gw.app.close()
  t.equal(await within(closed, 5000, 'the pending socket to close'), 1001)
})
