import type { Socket } from 'node:net'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, token, userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const FORGED = token({ sub: 'alice' }, 'a-secret-the-gateway-does-not-know-0123456789')

const statuses = async (url: string): Promise<Record<string, number>> => {
  const [livez, readyz, health] = await Promise.all(['/livez', '/readyz', '/ws/health'].map(async (path) => (await fetch(`${url}${path}`)).status))
  return { livez: livez ?? 0, readyz: readyz ?? 0, health: health ?? 0 }
}

t.test('/livez says the process is alive; /readyz answers as /ws/health does; neither needs a token', async (t) => {
  const gw = await startGateway(t, {}, { captureLogs: true })
  const livez = await get(`${gw.url}/livez`)
  t.match(livez, { status: 200, body: { status: 'ok' } })
  t.same(Object.keys(livez.body), ['status'])
  const [readyz, health] = await Promise.all([get(`${gw.url}/readyz`), get(`${gw.url}/ws/health`)])
  t.match(readyz, { status: 200, body: { healthy: true, draining: false, bus: 'memory', redisConnected: null, canary: true } })
  t.same(Object.keys(readyz.body), Object.keys(health.body), 'the same fields')
  t.same({ ...readyz.body, uptimeSeconds: 0 }, { ...health.body, uptimeSeconds: 0 }, 'the same verdict')
  t.same(gw.logs.filter((l) => /"url":"\/(livez|readyz)"/.test(l)), [], 'polls are not logged')
})

t.test('with Redis gone, /readyz and /ws/health turn 503 while /livez stays 200', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { REDIS_URL: redis.url, HEALTH_CANARY_INTERVAL: '100' })
  await until(async () => (await statuses(gw.url)).readyz === 200, 5000, 'ready')
  await redis.stop()
  await until(async () => (await statuses(gw.url)).readyz === 503, 5000, '/readyz to notice')
  t.same(await statuses(gw.url), { livez: 200, readyz: 503, health: 503 })
  t.match((await get(`${gw.url}/readyz`)).body, { healthy: false, redisConnected: false })
})

t.test('while draining, /livez stays 200 and /readyz turns 503 draining', async (t) => {
  const gw = await startGateway(t, { SHUTDOWN_TIMEOUT: '4000' })
  // A client that does not read its close frame keeps the drain, and the listener, open.
  const holdout = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('dave'))
  const socket = (holdout.socket as unknown as { _socket: Socket })._socket
  socket.pause()
  const closing = gw.close()
  await until(() => gw.app.draining, 2000, 'the drain')
  t.same(await statuses(gw.url), { livez: 200, readyz: 503, health: 503 })
  t.match((await get(`${gw.url}/readyz`)).body, { healthy: false, draining: true })
  t.match(await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken()), { status: 503, body: { code: 'EVENTGATE_DRAINING' } }, 'other requests are refused')
  socket.resume()
  await within(closing, 5000, 'the close')
})

t.test('an address blocked for failed authentications and over its rate limits still gets its probes answered', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '2', AUTH_FAILURE_COOLDOWN: '60000', RATE_LIMIT_PUBLISH: '1' })
  for (let i = 0; i < 3; i++) await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)).status, 429, 'the address is blocked')
  t.same(await statuses(gw.url), { livez: 200, readyz: 200, health: 200 })
  const polls = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await fetch(`${gw.url}/${i % 2 === 0 ? 'livez' : 'readyz'}`)).status))
  t.same(new Set(polls), new Set([200]), '200 polls in a burst, all answered')
})
