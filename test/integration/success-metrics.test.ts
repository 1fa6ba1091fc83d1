import t from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, token, userToken } from '../../harness/tokens.js'
import { connect, connectAs, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'
import { scrape } from '../helpers/metrics.js'

/** The samples of one metric, by their labels as printed (`via="http",outcome="success"`). */
function series (samples: Map<string, number>, name: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of samples) {
    if (key.startsWith(`${name}{`)) out[key.slice(name.length + 1, -1)] = value
  }
  return out
}

async function publish (gw: Gateway, events: Array<Record<string, unknown>>): Promise<string[]> {
  const res = await post(`${gw.url}/events`, { events }, serviceToken())
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.ids as string[]
}

async function resume (client: TestClient, since: string): Promise<Record<string, unknown>> {
  return (await client.request('subscribe', { eventTypes: ['order.*'], since })).payload
}

t.test('authentications are timed by way in, and counted by outcome and reason', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const ws = `${gw.wsUrl}/ws/events`
  const expired = token({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 })
  const forged = token({ sub: 'mallory' }, 'not-the-gateway-secret-but-long-enough-for-hs256')

  const alice = await connectAs(t, ws, userToken('alice'))
  for (const bearer of [expired, forged]) {
    t.equal((await (await connect(t, ws, { headers: { authorization: `Bearer ${bearer}` } })).closed).code, 4001)
  }
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken())).status, 202)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, expired)).status, 401)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' })).status, 401)
  t.equal((await alice.request('reauthenticate', { token: userToken('alice') })).type, 'reauthenticated')
  t.match(await alice.request('reauthenticate', { token: expired }), { type: 'error', payload: { code: 'UNAUTHORIZED' } })

  // Counted before the answer goes out: nothing to wait for.
  const { samples } = await scrape(gw.url)
  t.same(series(samples, 'eventgate_authentications_total'), {
    'via="upgrade",outcome="success",reason="valid_token"': 1,
    'via="upgrade",outcome="failure",reason="token_expired"': 1,
    'via="upgrade",outcome="failure",reason="token_invalid"': 1,
    'via="http",outcome="success",reason="valid_token"': 1,
    'via="http",outcome="failure",reason="token_expired"': 1,
    'via="http",outcome="failure",reason="token_missing"': 1,
    'via="reauthenticate",outcome="success",reason="valid_token"': 1,
    'via="reauthenticate",outcome="failure",reason="token_expired"': 1
  })
  for (const [via, count] of [['upgrade', 3], ['http', 3], ['reauthenticate', 2]] as const) {
    t.equal(samples.get(`eventgate_authentication_seconds_count{via="${via}"}`), count, via)
    t.ok(samples.has(`eventgate_authentication_seconds_bucket{le="0.1",via="${via}"}`), `${via}: a bucket at the 100 ms target`)
    t.ok((samples.get(`eventgate_authentication_seconds_sum{via="${via}"}`) ?? -1) > 0, `${via}: time was measured`)
  }
})

t.test('resumes are counted by outcome: resumed, truncated; a plain subscribe is no resume', async (t) => {
  // One security event per type, ever: the history then holds the events this test publishes.
  const gw = await startGateway(t, { ...LENIENT_LIMITS, HISTORY_MAX_EVENTS: '5', SECURITY_EVENTS_PER_SECOND: '0.001' })
  const ws = `${gw.wsUrl}/ws/events`
  const first = await connectAs(t, ws, userToken('alice'))
  t.equal((await first.subscribe('order.*')).type, 'subscribed')
  const [since] = await publish(gw, [{ type: 'order.created', userId: 'alice' }])
  if (since === undefined) throw new Error('no id')
  await first.events(1)
  await publish(gw, [{ type: 'order.updated', userId: 'alice' }])

  t.match(await resume(await connectAs(t, ws, userToken('alice')), since), { replayed: 1, truncated: false })
  await publish(gw, Array.from({ length: 10 }, (_, n) => ({ type: 'order.created', userId: 'alice', data: { n } })))
  t.match(await resume(await connectAs(t, ws, userToken('alice')), since), { replayed: 5, truncated: true })

  t.same(series((await scrape(gw.url)).samples, 'eventgate_resumes_total'), {
    'outcome="resumed"': 1,
    'outcome="truncated"': 1,
    'outcome="unavailable"': 0
  })
})

t.test('with Redis unreachable, a resume is counted unavailable', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url })
  await until(() => gw.app.bus.connected, 10_000, 'the bus to reach Redis')
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await redis.stop()
  await until(() => !gw.app.bus.connected, 5000, 'the gateway to notice')
  t.match(await alice.request('subscribe', { eventTypes: ['order.*'], since: `${Date.now()}-0` }), { type: 'error', payload: { code: 'HISTORY_UNAVAILABLE' } })
  t.equal((await scrape(gw.url)).samples.get('eventgate_resumes_total{outcome="unavailable"}'), 1)
})
