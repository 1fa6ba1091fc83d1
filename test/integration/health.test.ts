import { Redis } from 'ioredis'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'

t.test('health reports the canary and the bus round trip on the embedded bus', async (t) => {
  const gw = await startGateway(t, { HEALTH_CANARY_INTERVAL: '50' })
  await until(async () => (await get(`${gw.url}/ws/health`)).body.busRoundTripMs !== null, 2000, 'a first canary')
  const health = await get(`${gw.url}/ws/health`)
  t.match(health, { status: 200, body: { healthy: true, canary: true, busRoundTripMs: Number } })
})

t.test('a canary that does not come back turns health 503 until events flow again', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { REDIS_URL: redis.url, HEALTH_CANARY_INTERVAL: '100' })
  await until(async () => (await get(`${gw.url}/ws/health`)).body.canary === true && (await get(`${gw.url}/ws/health`)).status === 200, 5000, 'a healthy start')
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('system.*')

  // Redis answers nobody for a while: connections stay up, but nothing flows.
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })
  await admin.client('PAUSE', 1500, 'ALL')
  await until(async () => (await get(`${gw.url}/ws/health`)).status === 503, 3000, 'health to notice the lost canary')
  t.match((await get(`${gw.url}/ws/health`)).body, { healthy: false, canary: false })

  await until(async () => (await get(`${gw.url}/ws/health`)).status === 200, 10_000, 'the canary to come back')
  t.match((await get(`${gw.url}/ws/health`)).body, { healthy: true, canary: true, busRoundTripMs: Number })
  t.equal((await post(`${gw.url}/events`, { type: 'system.maintenance' }, serviceToken())).status, 202)
  t.equal((await alice.events(1))[0]?.type, 'system.maintenance', 'events flow through the re-made subscription')
})
