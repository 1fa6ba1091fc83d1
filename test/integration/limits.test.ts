import t from 'tap'
import { userToken } from '../../harness/tokens.js'
import { connect, connectAs, refusedUpgrade } from '../helpers/client.js'
import { startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

t.test('MAX_CONNECTIONS_PER_USER: the extra socket is closed 4008, a slot frees on close', async (t) => {
  const gw = await startGateway(t, { MAX_CONNECTIONS_PER_USER: '2' })
  const url = `${gw.wsUrl}/ws/events`
  const first = await connectAs(t, url, userToken('alice'))
  await connectAs(t, url, userToken('alice'))
  const third = await connect(t, url, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.same(await third.closed, { code: 4008, reason: 'too_many_connections' })
  await connectAs(t, url, userToken('bob'))
  first.close()
  await first.closed
  const again = await connect(t, url, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.equal((await again.next('connected')).type, 'connected', 'the closed socket released its slot')
})

t.test('WEBSOCKET_MAX_CONNECTIONS: a full instance closes new sockets 1013', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_MAX_CONNECTIONS: '2' })
  const url = `${gw.wsUrl}/ws/events`
  await connectAs(t, url, userToken('alice'))
  await connectAs(t, url, userToken('bob'))
  const third = await connect(t, url, { headers: { authorization: `Bearer ${userToken('carol')}` } })
  t.same(await third.closed, { code: 1013, reason: 'server_full' })
})

t.test('a WebSocket upgrade from a foreign origin is refused with 403 before any socket exists', async (t) => {
  const gw = await startGateway(t, { ALLOWED_ORIGINS: 'https://app.example.com,https://*.example.org' })
  const url = `${gw.wsUrl}/ws/events`
  const auth = { authorization: `Bearer ${userToken('alice')}` }
  for (const origin of ['https://evil.example', 'https://example.org', 'https://example.org.evil.io', 'http://app.example.com']) {
    t.equal((await refusedUpgrade(url, { headers: { ...auth, origin } })).status, 403, origin)
  }
  for (const origin of ['https://app.example.com', 'https://eu.example.org', undefined]) {
    const client = await connect(t, url, { headers: origin === undefined ? auth : { ...auth, origin } })
    t.equal((await client.next('connected')).type, 'connected', origin ?? 'no Origin header')
  }
  const preflight = await fetch(`${gw.url}/events`, { method: 'OPTIONS', headers: { origin: 'https://eu.example.org', 'access-control-request-method': 'POST' } })
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://eu.example.org', 'CORS uses the same list')
  const foreign = await fetch(`${gw.url}/events`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
  t.equal(foreign.headers.get('access-control-allow-origin'), null)
})

t.test('an upgrade from the gateway\'s own origin is allowed whatever the list, as for its dashboard', async (t) => {
  const gw = await startGateway(t, { ALLOWED_ORIGINS: 'https://app.example.com' })
  const url = `${gw.wsUrl}/ws/events`
  const auth = { authorization: `Bearer ${userToken('alice')}` }
  const own = await connect(t, url, { headers: { ...auth, origin: gw.url } })
  t.equal((await own.next('connected')).type, 'connected', gw.url)
  const { port } = new URL(gw.url)
  for (const origin of [`http://127.0.0.1:${Number(port) + 1}`, `http://localhost:${port}`, 'null']) {
    t.equal((await refusedUpgrade(url, { headers: { ...auth, origin } })).status, 403, `${origin}: another origin`)
  }
})

t.test('a connection that misses its pong is terminated, its slot and subscriptions released', async (t) => {
  // Long enough that a loaded machine still answers in time; the silent client goes within two.
  const gw = await startGateway(t, { WEBSOCKET_HEARTBEAT_INTERVAL: '300', MAX_CONNECTIONS_PER_USER: '1' })
  const silent = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` }, autoPong: false })
  await silent.next('connected')
  await silent.subscribe('authentication.*')
  const healthy = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  t.equal((await within(silent.closed, 5000, 'the silent client to be dropped')).code, 1006, 'terminated without a close frame')
  t.match(gw.app.hub.stats(), { connections: 1, subscriptions: 0 }, 'its resources are released')
  t.equal((await healthy.request('ping')).type, 'pong', 'a client that answers pings stays')
  const again = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.equal((await again.request('ping')).type, 'pong', 'alice\'s one slot is free again')
})

t.test('closing the gateway closes sockets with 1001', async (t) => {
  const gw = await startGateway(t)
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await gw.close()
  t.same(await client.closed, { code: 1001, reason: 'server_shutting_down' })
})
