import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import type { SecurityEventType } from '../../src/security.js'
import { connect, connectAs, type EventPayload, type Frame, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { type Gateway, get, post, startGateway } from '../helpers/gateway.js'

const ENV = { ...LENIENT_LIMITS, MAX_CONNECTIONS_PER_USER: '2', SECURITY_EVENTS_PER_SECOND: '1000' }

const isEvent = (type: SecurityEventType, data: Record<string, unknown> = {}) => (frame: Frame): boolean =>
  frame.type === 'event' && frame.payload.type === type &&
  Object.entries(data).every(([key, value]) => (frame.payload.data as Record<string, unknown>)[key] === value)

async function watching (t: Test, url: string, bearer: string, ...patterns: string[]): Promise<TestClient> {
  const client = await connectAs(t, url, bearer)
  t.equal((await client.subscribe(...patterns)).type, 'subscribed')
  return client
}

/** Posts a marker to `userId`: had an event reached them before it, it would be queued ahead of it. */
async function nothingBefore (t: Test, gw: Gateway, client: TestClient, userId: string): Promise<void> {
  t.equal((await post(`${gw.url}/events`, { type: 'test.marker', userId }, serviceToken())).status, 202)
  const first = (await client.next('event')).payload as unknown as EventPayload
  t.equal(first.type, 'test.marker', `${userId} sees no lifecycle event that is not theirs`)
}

t.test('a user\'s sessions: created and refused 4008 reach that user and the admins, no other user', async (t) => {
  const gw = await startGateway(t, ENV)
  const admin = await watching(t, `${gw.wsUrl}/ws/admin`, adminToken(), 'session.*')
  const alice = await watching(t, `${gw.wsUrl}/ws/events`, userToken('alice'), 'session.*')
  const bob = await watching(t, `${gw.wsUrl}/ws/events`, userToken('bob'), 'session.*', 'test.*')

  const second = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  const { connectionId } = (await second.next('connected')).payload
  const created = { userId: 'alice', sessionId: 'session-alice', reason: 'connected', stream: 'events', serverId: gw.app.config.serverId }
  for (const client of [alice, admin]) {
    // Alice's first socket was announced too (to the admin, at least): this is the second's.
    const frame = await client.next(isEvent('session.created', { userId: 'alice', connectionId }))
    t.match(frame.payload, { type: 'session.created', userId: 'alice', data: { ...created, ip: '127.0.0.1' } })
    t.notOk('audience' in frame.payload, 'a user event, not an admin-only one')
  }

  const third = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.same(await third.closed, { code: 4008, reason: 'too_many_connections' })
  for (const client of [alice, admin]) {
    const frame = await client.next(isEvent('session.concurrent_limit', { userId: 'alice' }))
    t.match(frame.payload, { userId: 'alice', data: { reason: 'too_many_connections', limit: 2, ip: '127.0.0.1' } })
  }
  await nothingBefore(t, gw, bob, 'bob')
})

t.test('a reauthenticate is authentication.token.refresh to the user and the admins', async (t) => {
  const gw = await startGateway(t, ENV)
  const admin = await watching(t, `${gw.wsUrl}/ws/admin`, adminToken(), 'authentication.*')
  const carol = await watching(t, `${gw.wsUrl}/ws/events`, userToken('carol'), 'authentication.*')
  const exp = Math.floor(Date.now() / 1000) + 7200
  t.equal((await carol.request('reauthenticate', { token: userToken('carol', { exp }) })).type, 'reauthenticated')
  const expiresAt = new Date(exp * 1000).toISOString()
  for (const client of [carol, admin]) {
    const frame = await client.next(isEvent('authentication.token.refresh'))
    t.match(frame.payload, { userId: 'carol', data: { userId: 'carol', reason: 'reauthenticated', expiresAt } })
  }
})

t.test('a socket closed at its token\'s exp is session.expired to the user and the admins', async (t) => {
  const gw = await startGateway(t, ENV)
  const admin = await watching(t, `${gw.wsUrl}/ws/admin`, adminToken(), 'session.expired')
  const dave = await watching(t, `${gw.wsUrl}/ws/events`, userToken('dave'), 'session.expired')
  const short = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('dave', { exp: Math.floor(Date.now() / 1000) + 1 }))
  t.same(await short.closed, { code: 4001, reason: 'token_expired' })
  for (const client of [dave, admin]) {
    const frame = await client.next(isEvent('session.expired'))
    t.match(frame.payload, { userId: 'dave', data: { userId: 'dave', reason: 'token_expired', expiresAt: /Z$/ } })
  }
})

t.test('a valid token on the HTTP API is a log line, never a stream event', async (t) => {
  const gw = await startGateway(t, ENV, { captureLogs: true })
  const admin = await watching(t, `${gw.wsUrl}/ws/admin`, adminToken(), 'security.*', 'test.*')
  t.equal((await get(`${gw.url}/ws/stats`, adminToken())).status, 200)
  t.equal((await post(`${gw.url}/events`, { type: 'test.marker' }, serviceToken())).status, 202)
  const first = (await admin.next('event')).payload as unknown as EventPayload
  t.equal(first.type, 'test.marker', 'the publish and the stats poll put nothing on the stream before it')
  const audited = gw.logs.map((l) => JSON.parse(l) as { audit?: string, route?: string }).filter((l) => l.audit === 'security.auth.succeeded')
  t.ok(audited.some((l) => l.route === '/events'), 'the publish is audited in the log')
  t.ok(audited.some((l) => l.route === '/ws/stats'), 'and so is the stats poll')
})

t.test('a burst of sessions is rate limited per type, the next event counting those left out', async (t) => {
  // The admin watches from the other instance: its own session.created would take the one token.
  const { a, b } = await startPair(t, { SECURITY_EVENTS_PER_SECOND: '1' })
  const admin = await watching(t, `${b.wsUrl}/ws/admin`, adminToken(), 'session.created')
  const fromA = isEvent('session.created', { serverId: 'a' })
  await Promise.all(Array.from({ length: 5 }, async (_, n) => await connectAs(t, `${a.wsUrl}/ws/events`, userToken(`burst-${n}`))))
  const first = (await admin.next(fromA)).payload as unknown as EventPayload
  t.notOk('suppressed' in first.data, 'one goes out at once')
  let extra = 0
  await until(async () => {
    if (admin.frames.some(fromA)) return true
    await connectAs(t, `${a.wsUrl}/ws/events`, userToken(`more-${extra++}`))
    return false
  }, 5000, 'the bucket to refill and a second event to go out')
  const second = (await admin.next(fromA)).payload as unknown as EventPayload
  t.ok(Number(second.data.suppressed) >= 4, `the second accounts for the 4 held back (suppressed ${String(second.data.suppressed)})`)
  t.ok(Number(second.data.suppressed) <= 4 + extra, 'and no more than were held back')
})

t.test('an instance started and draining is system.* to admins only', async (t) => {
  const redis = await RedisServer.start(t)
  const shared = { ...LENIENT_LIMITS, REDIS_URL: redis.url }
  const b = await startGateway(t, { ...shared, SERVER_ID: 'b' })
  await until(() => b.app.bus.connected, 10_000, 'b to reach Redis')
  const admin = await watching(t, `${b.wsUrl}/ws/admin`, adminToken(), 'system.*')
  const erin = await watching(t, `${b.wsUrl}/ws/events`, userToken('erin'), 'system.*', 'test.*')
  const a = await startGateway(t, { ...shared, SERVER_ID: 'a' })
  const started = await admin.next(isEvent('system.instance.started', { serverId: 'a' }))
  t.match(started.payload, { audience: 'admin', data: { reason: 'started', bus: 'redis' } })
  await a.close()
  const draining = await admin.next(isEvent('system.instance.draining', { serverId: 'a' }))
  t.match(draining.payload, { audience: 'admin', data: { reason: 'shutting_down', connections: 0 } })
  await nothingBefore(t, b, erin, 'erin')
})

t.test('Redis lost and back: system.redis.lost with its start, then recovered, once Redis can carry them', async (t) => {
  const redis = await RedisServer.start(t)
  const shared = { ...LENIENT_LIMITS, REDIS_URL: redis.url }
  const a = await startGateway(t, { ...shared, SERVER_ID: 'a' }, { captureLogs: true })
  const b = await startGateway(t, { ...shared, SERVER_ID: 'b' })
  await until(() => a.app.bus.connected && b.app.bus.connected, 10_000, 'both gateways to reach Redis')
  const admin = await watching(t, `${b.wsUrl}/ws/admin`, adminToken(), 'system.redis.*')
  await redis.stop()
  await until(() => a.logs.some((l) => l.includes('"msg":"Redis lost')), 10_000, 'a to see Redis lost')
  await redis.start()
  const lost = (await admin.next(isEvent('system.redis.lost', { serverId: 'a' }), 20_000)).payload as unknown as EventPayload
  const recovered = (await admin.next(isEvent('system.redis.recovered', { serverId: 'a' }), 5000)).payload as unknown as EventPayload
  t.match(lost, { audience: 'admin', data: { reason: 'unreachable', lostAt: /Z$/ } })
  t.match(recovered, { audience: 'admin', data: { reason: 'reachable', lostAt: lost.data.lostAt } })
  t.ok(Number(recovered.data.downMs) > 0, 'with how long Redis was gone')
  t.ok(Date.parse(String(lost.data.lostAt)) < Date.parse(lost.timestamp), 'the loss is dated before its publication')
})
