import { Redis } from 'ioredis'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { startGatewayProcess } from '../../harness/process.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connect, connectAs, refusedUpgrade } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'

const redis = await RedisServer.start(t)

t.test('upgrades are limited per user across instances, refused ones per address: a neighbour cannot use up a user\'s', async (t) => {
  const env = { REDIS_URL: redis.url, RATE_LIMIT_UPGRADES: '3', WEBSOCKET_AUTH_TIMEOUT: '50' }
  const [a, b] = [await startGateway(t, env), await startGateway(t, env)]
  for (const gw of [a, b, a]) await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const refused = await refusedUpgrade(`${b.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.equal(refused.status, 429, 'alice\'s fourth upgrade, on the other instance')
  t.ok(Number(refused.retryAfter) > 0, 'with Retry-After')
  for (let i = 0; i < 3; i++) {
    t.same(await (await connect(t, `${a.wsUrl}/ws/events`)).closed, { code: 4001, reason: 'auth_timeout' }, 'a token-less upgrade from the same address')
  }
  t.equal((await refusedUpgrade(`${b.wsUrl}/ws/events`)).status, 429, 'the fourth token-less one from this address')
  await connectAs(t, `${b.wsUrl}/ws/events`, userToken('bob'))
  t.pass('bob, behind the same address, still connects')
  t.equal((await get(`${a.url}/ws/health`)).status, 200, 'health is never limited')
})

t.test('publishing is limited per identity and route: 429 EVENTGATE_RATE_LIMITED, others unaffected', async (t) => {
  const gw = await startGateway(t, { RATE_LIMIT_PUBLISH: '2' })
  const risk = serviceToken('risk-engine')
  for (let i = 0; i < 2; i++) t.equal((await post(`${gw.url}/events`, { type: 'security.alert' }, risk)).status, 202)
  const refused = await post(`${gw.url}/events`, { type: 'security.alert' }, risk)
  t.match(refused, { status: 429, body: { statusCode: 429, code: 'EVENTGATE_RATE_LIMITED' } })
  t.ok(Number(refused.headers.get('retry-after')) > 0)
  t.equal((await post(`${gw.url}/events`, { type: 'security.alert' }, serviceToken('auth-service'))).status, 202, 'another service has its own')
})

t.test('a burst of publishes over two instances is limited by one shared budget, leased rather than counted one by one', async (t) => {
  const env = { REDIS_URL: redis.url, RATE_LIMIT_PUBLISH: '64' }
  const [a, b] = [await startGateway(t, env), await startGateway(t, env)]
  const raw = new Redis(redis.url)
  t.teardown(() => { raw.disconnect() })
  const leases = async (): Promise<number> => Number(/cmdstat_incrby:calls=(\d+)/.exec(await raw.info('commandstats'))?.[1] ?? 0)
  const before = await leases()
  const risk = serviceToken('burst-engine')
  const statuses = []
  for (let round = 0; round < 4; round++) {
    statuses.push(...await Promise.all(Array.from({ length: 30 }, async (_, i) => (await post(`${(i % 2 === 0 ? a : b).url}/events`, { type: 'security.alert' }, risk)).status)))
  }
  const accepted = statuses.filter((status) => status === 202).length
  t.ok(accepted <= 64, `${accepted} accepted of a limit of 64 across both`)
  t.ok(accepted >= 64 - 2 * 2, 'refused early by at most what an instance holds leased and unused')
  t.ok(statuses.every((status) => status === 202 || status === 429))
  t.ok(await leases() - before < statuses.length / 2, 'far fewer counter writes than requests')
})

t.test('failed authentications block the IP on every instance for the cool-down', async (t) => {
  const own = await RedisServer.start(t)
  const env = { REDIS_URL: own.url, AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_COOLDOWN: '1500', SECURITY_EVENTS_PER_SECOND: '100' }
  const [a, b] = [await startGateway(t, env), await startGateway(t, env)]
  for (let i = 0; i < 3; i++) t.equal((await post(`${a.url}/events`, { type: 'a.b' }, 'forged.token.value')).status, 401)
  const blocked = await post(`${b.url}/events`, { type: 'a.b' }, 'forged.token.value')
  t.match(blocked, { status: 429, body: { code: 'EVENTGATE_TOO_MANY_AUTH_FAILURES' } }, 'a failing token on the other instance')
  t.ok(Number(blocked.headers.get('retry-after')) >= 1)
  t.equal((await refusedUpgrade(`${a.wsUrl}/ws/events`, { headers: { authorization: 'Bearer forged.token.value' } })).status, 429, 'upgrades too')
  t.equal((await post(`${b.url}/events`, { type: 'a.b' }, serviceToken())).status, 202, 'a valid token is verified first, and passes')
  t.equal((await get(`${a.url}/ws/health`)).status, 200, 'health stays open')
  await until(async () => (await post(`${a.url}/events`, { type: 'a.b' }, 'forged.token.value')).status === 401, 5000, 'the cool-down to end')
})

t.test('a connection over its message rate gets RATE_LIMITED, then is closed 1008', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_MESSAGE_BURST: '5', WEBSOCKET_MESSAGE_RATE: '0.1', WEBSOCKET_MESSAGE_ABUSE_LIMIT: '3' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  for (let i = 0; i < 9; i++) alice.send({ type: 'ping', id: i })
  for (let i = 0; i < 5; i++) t.equal((await alice.next((f) => f.id === i)).type, 'pong', `ping ${i} within the burst`)
  for (let i = 0; i < 3; i++) t.equal((await alice.next('error')).payload.code, 'RATE_LIMITED')
  t.same(await alice.closed, { code: 1008, reason: 'rate_limited' })
  t.equal((await bob.request('ping')).type, 'pong', 'other connections are not affected')
})

t.test('MAX_CONNECTIONS_PER_USER holds across instances and frees on close', async (t) => {
  const env = { REDIS_URL: redis.url, MAX_CONNECTIONS_PER_USER: '2' }
  const [a, b] = [await startGateway(t, env), await startGateway(t, env)]
  await connectAs(t, `${a.wsUrl}/ws/events`, userToken('erin'))
  const onB = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('erin'))
  const third = await connect(t, `${a.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('erin')}` } })
  t.same(await third.closed, { code: 4008, reason: 'too_many_connections' })
  onB.close()
  await onB.closed
  await until(async () => {
    const client = await connect(t, `${a.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('erin')}` } })
    return client.frames[0]?.type === 'connected'
  }, 3000, 'the closed socket to release its slot')
  t.pass('a slot freed by a close on one instance is usable on the other')
})

t.test('the slots of an instance that dies free themselves', async (t) => {
  const env = { REDIS_URL: redis.url, MAX_CONNECTIONS_PER_USER: '1', WEBSOCKET_HEARTBEAT_INTERVAL: '200' }
  const doomed = await startGatewayProcess(t, env)
  const survivor = await startGateway(t, env)
  await connectAs(t, `${doomed.wsUrl}/ws/events`, userToken('frank'))
  const refused = await connect(t, `${survivor.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('frank')}` } })
  t.same(await refused.closed, { code: 4008, reason: 'too_many_connections' })
  await doomed.kill('SIGKILL')
  await until(async () => {
    const client = await connect(t, `${survivor.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('frank')}` } })
    return client.frames[0]?.type === 'connected'
  }, 5000, 'the dead instance\'s slot to expire')
  t.pass('the slot expired without its instance')
})
