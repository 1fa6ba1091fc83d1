import type { Socket } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { connect, connectAs } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { post, startGateway } from '../helpers/gateway.js'
import { scrape } from '../helpers/metrics.js'
import { within } from '../helpers/within.js'

const METRICS_TOKEN = 'scrape-token-0123456789abcdef'

async function sample (url: string, series: string): Promise<number | undefined> {
  return (await scrape(url)).samples.get(series)
}

/** Waits until the series has `expected`: counters of asynchronous facts (audit reports, closes) move a moment later. */
async function settles (url: string, series: string, expected: number): Promise<void> {
  await until(async () => await sample(url, series) === expected, 5000, `${series} to be ${expected} (it is ${String(await sample(url, series))})`)
}

t.test('a scrape counts connections, events published and delivered, and delivery latency once per event', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken())
  t.equal((await alice.subscribe('authentication.*')).type, 'subscribed')
  t.equal((await admin.subscribe('authentication.*', 'session.*')).type, 'subscribed')

  const events = [1, 2, 3].map((n) => ({ type: 'authentication.login.success', userId: 'alice', data: { n } }))
  t.equal((await post(`${gw.url}/events`, { events: [...events, { type: 'session.created', userId: 'alice' }] }, serviceToken())).status, 202)
  t.equal((await alice.events(3)).length, 3)
  t.equal((await admin.events(4)).length, 4)

  const { status, type, samples } = await scrape(gw.url)
  t.equal(status, 200)
  t.match(type, /^text\/plain; version=0\.0\.4/)
  t.equal(samples.get('eventgate_connections{stream="user"}'), 1)
  t.equal(samples.get('eventgate_connections{stream="admin"}'), 1)
  t.equal(samples.get('eventgate_users'), 2)
  t.equal(samples.get('eventgate_subscriptions'), 3)
  t.equal(samples.get('eventgate_events_published_total{namespace="authentication"}'), 3, 'labelled by namespace, not by full type')
  t.equal(samples.get('eventgate_events_published_total{namespace="session"}'), 1)
  t.ok((samples.get('eventgate_deliveries_total') ?? 0) >= 7, 'three events to two sockets, one to one')
  t.ok((samples.get('process_cpu_user_seconds_total') ?? -1) >= 0, 'process default metrics')
  t.ok((samples.get('eventgate_delivery_latency_seconds_bucket{le="+Inf"}') ?? 0) >= 4)

  // Lifecycle events (session.created) reach the hub too, a moment after the upgrades: once
  // the figures stand still, the histogram has one observation per event received, however
  // many sockets each went to.
  await until(async () => {
    const now = (await scrape(gw.url)).samples
    return now.get('eventgate_delivery_latency_seconds_count') === now.get('eventgate_events_received_total')
  }, 5000, 'one latency observation per event received')
  const settled = (await scrape(gw.url)).samples
  t.ok((settled.get('eventgate_delivery_latency_seconds_sum') ?? -1) >= 0)
  t.equal(settled.get('eventgate_bus_connected'), 1)
  t.equal(settled.get('eventgate_redis_connected'), undefined, 'no Redis series on the in-memory bus')
})

t.test('event namespaces beyond the cap are counted as _other', async (t) => {
  const gw = await startGateway(t)
  const events = Array.from({ length: 60 }, (_, i) => ({ type: `ns${i}.created` }))
  t.equal((await post(`${gw.url}/events`, { events }, serviceToken())).status, 202)
  const published = [...(await scrape(gw.url)).samples].filter(([series]) => series.startsWith('eventgate_events_published_total{'))
  t.equal(published.length, 51, '50 namespaces and _other')
  t.equal(published.reduce((sum, [, value]) => sum + value, 0), 60, 'every event counted')
  t.equal((await scrape(gw.url)).samples.get('eventgate_events_published_total{namespace="_other"}'), 10)
})

t.test('failed authentications are counted by reason', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, WEBSOCKET_AUTH_TIMEOUT: '50' })
  const refused = async (url: string, headers: Record<string, string> = {}): Promise<number> =>
    (await (await connect(t, url, { headers })).closed).code
  t.equal(await refused(`${gw.wsUrl}/ws/events`), 4001)
  t.equal(await refused(`${gw.wsUrl}/ws/events`, { authorization: `Bearer ${token({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 })}` }), 4001)
  t.equal(await refused(`${gw.wsUrl}/ws/events`, { authorization: `Bearer ${token({ sub: 'mallory' }, 'not-the-gateway-secret-but-long-enough-for-hs256')}` }), 4001)
  t.equal(await refused(`${gw.wsUrl}/ws/admin`, { authorization: `Bearer ${userToken('bob')}` }), 4003)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' })).status, 401)

  await settles(gw.url, 'eventgate_auth_failures_total{reason="token_missing"}', 2)
  const { samples } = await scrape(gw.url)
  t.equal(samples.get('eventgate_auth_failures_total{reason="token_expired"}'), 1)
  t.equal(samples.get('eventgate_auth_failures_total{reason="token_invalid"}'), 1)
  t.equal(samples.get('eventgate_auth_failures_total{reason="admin_required"}'), 1)
  t.equal(samples.get('eventgate_security_events_total{type="security.auth.failed"}'), 5)
})

t.test('HTTP 429s are counted by route, refused frames and limits by reason', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, RATE_LIMIT_PUBLISH: '1', RATE_LIMIT_UPGRADES: '1', WEBSOCKET_MESSAGE_BURST: '1', WEBSOCKET_MESSAGE_RATE: '0.01' })
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken())).status, 202)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken())).status, 429)

  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  for (const id of ['p1', 'p2', 'p3']) alice.send({ type: 'ping', id })
  t.equal((await alice.next((f) => f.id === 'p1')).type, 'pong')
  for (const id of ['p2', 'p3']) t.match(await alice.next((f) => f.id === 'p3' || f.payload.code === 'RATE_LIMITED'), { type: 'error', payload: { code: 'RATE_LIMITED' } }, id)

  const upgrade = new WebSocket(`${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  upgrade.on('error', () => {})
  t.teardown(() => { upgrade.terminate() })
  const response = await within(new Promise<number>((resolve) => upgrade.once('unexpected-response', (_request, res) => { resolve(res.statusCode ?? 0); res.destroy() })), 5000, 'the refused upgrade')
  t.equal(response, 429)

  await settles(gw.url, 'eventgate_http_rate_limited_total{route="/ws/events"}', 1)
  const { samples } = await scrape(gw.url)
  t.equal(samples.get('eventgate_http_rate_limited_total{route="/events"}'), 1)
  t.equal(samples.get('eventgate_ws_rate_limited_frames_total'), 2)
  t.equal(samples.get('eventgate_limits_exceeded_total{reason="publishing"}'), 1)
  t.equal(samples.get('eventgate_limits_exceeded_total{reason="upgrades"}'), 1)
})

t.test('a slow consumer closed 4009 is counted', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_MAX_BUFFERED_BYTES: '1024', EVENT_MAX_DATA_BYTES: '20000' })
  const slow = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('slow'))
  t.equal((await slow.subscribe('load.*')).type, 'subscribed')
  // Stop reading: the kernel buffers fill, then the gateway's, past the bound.
  const tcp = (slow.socket as unknown as { _socket: Socket })._socket
  tcp.pause()
  const events = Array.from({ length: 50 }, () => ({ type: 'load.tick', userId: 'slow', data: { pad: 'x'.repeat(16_000) } }))
  // 200 batches of 800 kB: far past what loopback buffers hold.
  for (let batch = 0; batch < 200 && await sample(gw.url, 'eventgate_slow_consumer_closes_total') === 0; batch++) {
    t.equal((await post(`${gw.url}/events`, { events }, serviceToken())).status, 202)
  }
  t.equal(await sample(gw.url, 'eventgate_slow_consumer_closes_total'), 1)
  tcp.resume()
  t.equal((await within(slow.closed, 10_000, 'the close, behind the frames sent before it')).code, 4009)
})

t.test('with Redis: connected, canary round trip, and latency observed on the receiving instance', async (t) => {
  const redis = await RedisServer.start(t)
  const env = { REDIS_URL: redis.url, HEALTH_CANARY_INTERVAL: '100' }
  const [a, b] = [await startGateway(t, env), await startGateway(t, env)]
  await until(() => a.app.bus.connected && b.app.bus.connected, 10_000, 'both gateways to reach Redis')
  const bob = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('bob'))
  t.equal((await bob.subscribe('session.*')).type, 'subscribed')
  const before = await sample(b.url, 'eventgate_delivery_latency_seconds_count') ?? 0
  t.equal((await post(`${a.url}/events`, { type: 'session.created', userId: 'bob' }, serviceToken())).status, 202)
  await bob.events(1)
  await until(async () => (await sample(b.url, 'eventgate_delivery_latency_seconds_count') ?? 0) > before, 5000, 'b to observe the event')
  await until(async () => Number.isFinite(await sample(b.url, 'eventgate_bus_round_trip_seconds')), 5000, 'a canary round trip')
  const { samples } = await scrape(b.url)
  t.equal(samples.get('eventgate_redis_connected'), 1)
  t.equal(samples.get('eventgate_canary_healthy'), 1)
  t.equal(samples.get('eventgate_events_published_total{namespace="session"}'), undefined, 'published on a, not on b')
  t.equal((await scrape(a.url)).samples.get('eventgate_events_published_total{namespace="session"}'), 1)
})

t.test('METRICS_TOKEN: the scrape needs it, and a wrong one is a failed authentication', async (t) => {
  const gw = await startGateway(t, { METRICS_TOKEN })
  t.equal((await scrape(gw.url)).status, 401)
  t.equal((await scrape(gw.url, 'wrong-token-0123456789abcdef')).status, 401)
  t.equal((await scrape(gw.url, serviceToken())).status, 401, 'a JWT is not the metrics token')
  const { status, samples } = await scrape(gw.url, METRICS_TOKEN)
  t.equal(status, 200)
  t.equal(samples.get('eventgate_auth_failures_total{reason="token_missing"}'), 1)
  t.equal(samples.get('eventgate_auth_failures_total{reason="token_invalid"}'), 2)
})

t.test('METRICS_TOKEN is validated at start without echoing it', async (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'test', METRICS_TOKEN: 'short-secret' })) as ConfigError
  t.ok(error instanceof ConfigError)
  t.equal(error.variable, 'METRICS_TOKEN')
  t.notMatch(error.message, /short-secret/)
  t.equal(loadConfig({ NODE_ENV: 'test', METRICS_TOKEN }).metricsToken, METRICS_TOKEN)
})
