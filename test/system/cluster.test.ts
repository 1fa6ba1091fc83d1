import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { type Gateway, get, post, startGateway } from '../helpers/gateway.js'

/** Redis reconnects back off up to two seconds (src/redis-connection.ts), so allow a few. */
const RECOVERY_MS = 10_000

const health = async (gw: Gateway) => await get(`${gw.url}/ws/health`)
const stats = async (gw: Gateway, bearer?: string) => await get(`${gw.url}/ws/stats`, bearer)
const publish = async (gw: Gateway, event: Record<string, unknown>) => await post(`${gw.url}/events`, event, serviceToken())

async function healthIs (gw: Gateway, status: number, timeoutMs = RECOVERY_MS): Promise<void> {
  await until(async () => (await health(gw)).status === status, timeoutMs, `/ws/health to answer ${status}`)
}

/** A gateway on `redis`, once its bus is up. */
async function member (t: Test, redis: RedisServer, serverId: string): Promise<Gateway> {
  const gw = await startGateway(t, { REDIS_URL: redis.url, SERVER_ID: serverId })
  await healthIs(gw, 200)
  return gw
}

/** The Redis the tests share; the ones that stop Redis start their own. */
const shared = await RedisServer.start(t)

t.test('an event POSTed to one instance reaches its user and the admins on another, no one else', async (t) => {
  const [a, b] = [await member(t, shared, 'deliver-a'), await member(t, shared, 'deliver-b')]
  const alice = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('alice'))
  const bob = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('bob'))
  const admin = await connectAs(t, `${b.wsUrl}/ws/admin`, adminToken())
  for (const client of [alice, bob, admin]) await client.subscribe('authentication.*')

  const res = await publish(a, { type: 'authentication.login.success', userId: 'alice', data: { ip: '1.2.3.4' } })
  t.equal(res.status, 202)
  const [toAlice] = await alice.events(1)
  t.match(toAlice, { id: (res.body.ids as string[])[0], type: 'authentication.login.success', userId: 'alice', data: { ip: '1.2.3.4' } })
  t.same(await admin.events(1), [toAlice])

  // Bob's own event comes after Alice's on the bus, so his first event shows hers skipped him.
  await publish(a, { type: 'authentication.logout', userId: 'bob' })
  const [toBob] = await bob.events(1)
  t.equal(toBob?.userId, 'bob')
})

t.test('/ws/health follows Redis: 200, then 503 when it dies, then 200 and delivery after it restarts', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await member(t, redis, 'health')
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('authentication.*')
  t.match((await health(gw)).body, { healthy: true, bus: 'redis', redisConnected: true, serverId: 'health', connections: 1 })

  await redis.stop()
  await healthIs(gw, 503, 5000)
  t.match((await health(gw)).body, { healthy: false, redisConnected: false })

  await redis.start()
  await healthIs(gw, 200)
  t.match((await health(gw)).body, { healthy: true, redisConnected: true })
  t.equal((await publish(gw, { type: 'authentication.logout', userId: 'alice' })).status, 202)
  t.match(await alice.events(1), [{ type: 'authentication.logout', userId: 'alice' }])
})

t.test('a gateway started while Redis is down serves, refuses publishes with 503, and recovers', async (t) => {
  const redis = await RedisServer.start(t)
  await redis.stop()
  const gw = await startGateway(t, { REDIS_URL: redis.url })
  const down = await health(gw)
  t.equal(down.status, 503)
  t.match(down.body, { healthy: false, bus: 'redis', redisConnected: false })
  const refused = await publish(gw, { type: 'authentication.logout', userId: 'alice' })
  t.equal(refused.status, 503)
  t.equal(refused.headers.get('retry-after'), '1')
  t.match(refused.body, { statusCode: 503, code: 'EVENTGATE_BUS_UNAVAILABLE' })

  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('authentication.*')
  await redis.start()
  await healthIs(gw, 200)
  t.equal((await publish(gw, { type: 'authentication.logout', userId: 'alice' })).status, 202)
  t.match(await alice.events(1), [{ type: 'authentication.logout', userId: 'alice' }])
})

/** The cluster figures as an admin on `gw` sees them. */
async function cluster (gw: Gateway) {
  return (await stats(gw, adminToken())).body.global as { totalServers: number, totalConnections: number, servers: Array<{ serverId: string }> }
}

// Well under the registry's refresh interval (a third of its 15 s TTL), so only registering on
// connect can pass it.
const REGISTER_MS = 1000

t.test('an instance registers as soon as its Redis is ready, at boot and after a restart', async (t) => {
  const redis = await RedisServer.start(t)
  const [a, b] = [await member(t, redis, 'register-a'), await member(t, redis, 'register-b')]
  // Each instance reads its own figures live, so only the other one proves the registry entry.
  const seesBoth = async (): Promise<boolean> => (await cluster(a)).totalServers === 2 && (await cluster(b)).totalServers === 2
  await until(seesBoth, REGISTER_MS, 'both instances to register at boot')
  await redis.stop()
  await redis.start() // empty: nothing is saved
  await Promise.all([healthIs(a, 200), healthIs(b, 200)])
  await until(seesBoth, REGISTER_MS, 'both instances to register again')
  t.same((await cluster(a)).servers.map((s) => s.serverId).sort(), ['register-a', 'register-b'])
})

t.test('/ws/stats counts every instance and socket, for admins only; a closed instance drops out', async (t) => {
  const [a, b] = [await member(t, shared, 'stats-a'), await member(t, shared, 'stats-b')]
  for (const user of ['alice', 'bob']) await connectAs(t, `${a.wsUrl}/ws/events`, userToken(user))
  await connectAs(t, `${b.wsUrl}/ws/events`, userToken('carol'))

  t.equal((await stats(a, userToken('alice'))).status, 403)
  t.equal((await stats(a)).status, 401)

  // Each instance rewrites its figures every 5 s (a third of the registry TTL), so the
  // connection counts catch up within that.
  await until(async () => (await cluster(a)).totalConnections === 3, RECOVERY_MS, 'both instances to report their sockets')
  const both = await cluster(b)
  t.match(both, { totalServers: 2, totalConnections: 3 })
  t.same(both.servers.map((s) => s.serverId).sort(), ['stats-a', 'stats-b'])

  await b.close()
  const after = await cluster(a)
  t.match(after, { totalServers: 1, totalConnections: 2 })
  t.same(after.servers.map((s) => s.serverId), ['stats-a'])
})
