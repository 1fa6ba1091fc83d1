import t from 'tap'
import { until } from '../../harness/ports.js'
import type { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connect, connectAs, refusedUpgrade, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, get, post, startGateway } from '../helpers/gateway.js'
import { RedisCluster } from '../helpers/redis-cluster.js'
import { within } from '../helpers/within.js'

/**
 * Two gateways on a real Redis Cluster of six nodes, every shared feature crossing from one to the
 * other. One cluster and one pair for the file (a cluster start costs seconds); each test uses
 * users and keys of its own. The last test stops the cluster.
 */
const started = performance.now()
const cluster = await RedisCluster.start(t)
t.comment(`cluster of six nodes started in ${Math.round(performance.now() - started)} ms`)

const env = {
  HEALTH_CANARY_INTERVAL: '500',
  REDIS_CLUSTER_NODES: cluster.seeds,
  ...LENIENT_LIMITS,
  RATE_LIMIT_PUBLISH: '5',
  MAX_CONNECTIONS_PER_USER: '2',
  SECURITY_EVENTS_PER_SECOND: '100'
}
const a = await startGateway(t, { ...env, SERVER_ID: 'a' })
const b = await startGateway(t, { ...env, SERVER_ID: 'b' })
await until(() => a.app.bus.connected && b.app.bus.connected, 10_000, 'both gateways to reach the cluster')

const publish = async (gw: Gateway, body: unknown, publisher = 'billing', headers: Record<string, string> = {}) =>
  await post(`${gw.url}/events`, body, serviceToken(publisher), headers)
const events = async (gw: Gateway, user: string, pattern: string): Promise<TestClient> => {
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(user))
  await client.subscribe(pattern)
  return client
}

t.test('an event published on a reaches its user on b, and a batch arrives whole and in order', async (t) => {
  const alice = await events(b, 'alice', 'order.*')
  const one = await publish(a, { type: 'order.created', userId: 'alice', data: { n: 0 } })
  t.equal(one.status, 202)
  t.match(await alice.events(1), [{ id: (one.body.ids as string[])[0], type: 'order.created', data: { n: 0 } }])
  const batch = await publish(a, { events: [1, 2, 3].map((n) => ({ type: 'order.updated', userId: 'alice', data: { n } })) }, 'orders')
  t.same((await alice.events(3)).map((e) => e.id), batch.body.ids)
})

t.test('an idempotent retry on the other instance gets the same ids and publishes nothing again', async (t) => {
  const bob = await events(a, 'bob', 'payment.*')
  const body = { events: [{ type: 'payment.captured', userId: 'bob' }, { type: 'payment.settled', userId: 'bob', idempotencyKey: 'settle-1' }] }
  const first = await publish(a, body, 'payments', { 'idempotency-key': 'request-1' })
  const retry = await publish(b, body, 'payments', { 'idempotency-key': 'request-1' })
  t.same([first.status, retry.status], [202, 202])
  t.same(retry.body.ids, first.body.ids, 'the same ids')
  const single = await publish(b, { type: 'payment.settled', userId: 'bob', idempotencyKey: 'settle-1' }, 'payments')
  t.same(single.body.ids, [(first.body.ids as string[])[1]], 'an event key alone is remembered too')
  const [marker] = (await publish(a, { type: 'payment.marker', userId: 'bob' }, 'payments')).body.ids as string[]
  t.same((await bob.events(3)).map((e) => e.id), [...first.body.ids as string[], marker], 'each event delivered once')
})

t.test('a notification published on b reaches its user on a', async (t) => {
  const carol = await events(a, 'carol', 'notification.*')
  const res = await post(`${b.url}/notifications`, { userId: 'carol', level: 'info', title: 'Hello', message: 'on the cluster' }, serviceToken())
  t.equal(res.status, 202)
  t.match(await carol.events(1), [{ type: 'notification.user', userId: 'carol', data: { title: 'Hello' } }])
})

t.test('a subscribe with since on b replays what a published meanwhile', async (t) => {
  const first = await publish(a, { type: 'resume.seen', userId: 'dave' })
  const missed = await publish(a, { events: [1, 2].map((n) => ({ type: 'resume.missed', userId: 'dave', data: { n } })) })
  const dave = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('dave'))
  // A position names each partition the stream reads: dave's, from the event, and the broadcasts'.
  const since = `${(first.body.ids as string[])[0] as string},${a.app.bus.positionOf('b') as string}`
  dave.send({ type: 'subscribe', id: 'resume', payload: { eventTypes: ['resume.*'], since } })
  t.match((await dave.next((f) => f.id === 'resume')).payload, { truncated: false })
  t.same((await dave.events(2)).map((e) => e.id), missed.body.ids)
})

t.test('revoking a session, then a user, closes their sockets on both instances', async (t) => {
  const sockets = [await events(a, 'erin', 'x.*'), await events(b, 'erin', 'x.*')]
  t.equal((await post(`${a.url}/sessions/session-erin/revoke`, {}, serviceToken())).status, 202)
  for (const socket of sockets) t.match(await within(socket.closed, 5000, 'the session close'), { reason: 'session_revoked' })
  const frank = [await events(a, 'frank', 'x.*'), await events(b, 'frank', 'x.*')]
  t.equal((await post(`${b.url}/users/frank/revoke`, {}, adminToken('root'))).status, 202)
  for (const socket of frank) t.match(await within(socket.closed, 5000, 'the user close'), { reason: /revoked/ })
  const refused = await connect(t, `${a.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('frank')}` } })
  t.match(await refused.closed, { reason: /revoked/ }, 'a revoked user stays refused')
})

t.test('a ticket issued on a opens one socket on b, once', async (t) => {
  const res = await post(`${a.url}/ws/ticket`, {}, userToken('grace'))
  t.equal(res.status, 200)
  const url = `${b.wsUrl}/ws/events?ticket=${encodeURIComponent(res.body.ticket as string)}`
  t.equal((await (await connect(t, url)).next('connected')).payload.userId, 'grace')
  t.match(await (await connect(t, url)).closed, { code: 4001 }, 'a used ticket is refused')
})

t.test('limits hold across instances: publishing, sockets per user', async (t) => {
  for (let i = 0; i < 5; i++) t.equal((await publish(i % 2 === 0 ? a : b, { type: 'limit.hit' }, 'limited')).status, 202)
  t.match(await publish(b, { type: 'limit.hit' }, 'limited'), { status: 429, body: { code: 'EVENTGATE_RATE_LIMITED' } }, 'the sixth publish in a minute')

  await events(a, 'heidi', 'x.*')
  await events(b, 'heidi', 'x.*')
  const third = await connect(t, `${a.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('heidi')}` } })
  t.same(await third.closed, { code: 4008, reason: 'too_many_connections' }, 'a third socket, with two held on two instances')
})

t.test('upgrades per user and failed authentications per address are limited across instances', async (t) => {
  // Refusals from this address earlier in the file counted too: the forged tokens come from an
  // address of their own, through a trusted proxy.
  const limited = { ...env, RATE_LIMIT_UPGRADES: '3', AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_COOLDOWN: '60000', TRUST_PROXY: '127.0.0.1' }
  const [c, d] = [await startGateway(t, { ...limited, SERVER_ID: 'c' }), await startGateway(t, { ...limited, SERVER_ID: 'd' })]
  await until(() => c.app.bus.connected && d.app.bus.connected, 10_000, 'the limited gateways to reach the cluster')
  for (const gw of [c, d, c]) (await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('ivan'))).close()
  t.equal((await refusedUpgrade(`${d.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('ivan')}` } })).status, 429, 'a fourth upgrade')

  const forged = { authorization: `Bearer ${token({ sub: 'mallory' }, 'a-secret-the-gateway-does-not-know-0123456789')}`, 'x-forwarded-for': '203.0.113.9' }
  const forge = async (gw: Gateway) => await fetch(`${gw.url}/events`, { method: 'POST', headers: { ...forged, 'content-type': 'application/json' }, body: '{"type":"a.b"}' })
  for (const gw of [c, d, c]) t.equal((await forge(gw)).status, 401)
  t.equal((await forge(d)).status, 429, 'the address is blocked on the other instance')
  t.equal((await refusedUpgrade(`${c.wsUrl}/ws/events`, { headers: forged })).status, 429, 'upgrades too')
})

t.test('/ws/stats counts both instances and their sockets', async (t) => {
  await events(a, 'judy', 'x.*')
  await events(b, 'judy-too', 'x.*')
  const stats = async (gw: Gateway) => (await get(`${gw.url}/ws/stats`, adminToken())).body.global as { totalServers: number, servers: Array<{ serverId: string }> }
  await until(async () => (await stats(a)).servers.some((s) => s.serverId === 'b') && (await stats(b)).servers.some((s) => s.serverId === 'a'), 10_000, 'each instance to see the other')
  t.same((await stats(a)).servers.map((s) => s.serverId).filter((id) => id === 'a' || id === 'b').sort(), ['a', 'b'])
})

const bothAnswer = async (status: number): Promise<void> => {
  await until(async () => (await get(`${a.url}/ws/health`)).status === status && (await get(`${b.url}/ws/health`)).status === status, 15_000, `both to answer ${status}`)
}

t.test('/ws/health is 503 while the cluster is down (a master lost with no replica to take over)', async (t) => {
  for (const gw of [a, b]) t.match(await get(`${gw.url}/ws/health`), { status: 200, body: { healthy: true, bus: 'redis', redisConnected: true } })
  for (const replica of cluster.replicas) await cluster.kill(replica)
  await cluster.kill(cluster.masters[0] as RedisServer)
  // The others mark the cluster failed once the master missed the node timeout, and refuse
  // every command CLUSTERDOWN: the canary stops coming back.
  await bothAnswer(503)
  t.match(await publish(b, { type: 'during.the.outage' }), { status: 503, body: { code: 'EVENTGATE_BUS_UNAVAILABLE' } })
})

t.test('/ws/health is 503 once every node is gone', async (t) => {
  await cluster.stop()
  await bothAnswer(503)
  t.match(await get(`${a.url}/ws/health`), { status: 503, body: { healthy: false } })
  t.match(await publish(a, { type: 'after.the.end' }), { status: 503, body: { code: 'EVENTGATE_BUS_UNAVAILABLE' } })
})
