import { performance } from 'node:perf_hooks'
import { createSigner } from 'fast-jwt'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { adminToken, serviceToken, TEST_SECRET, token, userToken } from '../../harness/tokens.js'
import { connect, connectAs, type Frame, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/** The bound the revocation rule sets: every instance closes the covered sockets within it. */
const REVOCATION_CLOSE_MS = 1000

const revokeSession = async (gw: Gateway, sessionId: string, body: unknown = {}, bearer = serviceToken()) =>
  await post(`${gw.url}/sessions/${encodeURIComponent(sessionId)}/revoke`, body, bearer)
const revokeUser = async (gw: Gateway, userId: string, bearer = adminToken('root')) =>
  await post(`${gw.url}/users/${encodeURIComponent(userId)}/revoke`, {}, bearer)

/** The socket's close, and how many ms after `since` (performance.now()) the client saw it. */
async function closedAfter (client: TestClient, since: number) {
  const closed = await within(client.closed, 5000, 'the revocation close')
  return { ...closed, ms: performance.now() - since }
}

/** How an upgrade with `bearer` ends: the user it connected, or the close that refused it. */
async function outcome (t: Test, url: string, bearer: string): Promise<string | { code: number, reason: string }> {
  const client = await connect(t, url, { headers: { authorization: `Bearer ${bearer}` } })
  const first = await Promise.race([client.next('connected').then((f) => f.payload.userId as string, () => undefined), client.closed])
  return first ?? await client.closed
}

const isType = (type: string) => (f: Frame): boolean => f.type === 'event' && f.payload.type === type

t.test('revoking needs a token, role admin or service, and valid ids', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  t.equal((await revokeSession(gw, 's1', {}, '')).status, 401, 'no token')
  t.match((await post(`${gw.url}/users/bob/revoke`, {})).body, { code: 'EVENTGATE_UNAUTHORIZED' })
  for (const bearer of [userToken('alice'), token({ sub: 'publisher', permissions: ['events:publish'] })]) {
    const res = await revokeSession(gw, 's1', {}, bearer)
    t.equal(res.status, 403)
    t.match(res.body, { code: 'EVENTGATE_FORBIDDEN' })
  }
  t.equal((await revokeSession(gw, 'x'.repeat(256))).status, 202, 'an id at its 256-character limit')
  t.equal((await revokeUser(gw, 'é'.repeat(256))).status, 202, 'counted in characters, not in encoded bytes')
  t.match(await revokeSession(gw, 'x'.repeat(257)), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'sessionId' } })
  t.match(await revokeUser(gw, 'x'.repeat(257)), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'userId' } })
  t.match(await revokeSession(gw, 's1', { userID: 'alice' }), { status: 400, body: { field: 'userID' } }, 'unknown body fields are refused')

  const before = Date.now()
  const bySession = await revokeSession(gw, 's1')
  t.equal(bySession.status, 202)
  t.same(Object.keys(bySession.body.revoked as object).sort(), ['revokedAt', 'sessionId'], 'the session, and its user only when given')
  t.match(bySession.body, { revoked: { sessionId: 's1', revokedAt: /^\d{4}-\d\d-\d\dT/ } })
  t.ok(Date.parse((bySession.body.revoked as { revokedAt: string }).revokedAt) >= before)
  const noBody = await fetch(`${gw.url}/sessions/s2/revoke`, { method: 'POST', headers: { authorization: `Bearer ${serviceToken()}` } })
  t.equal(noBody.status, 202, 'the body is optional')
  const byUser = await revokeUser(gw, 'bob')
  t.equal(byUser.status, 202)
  t.match(byUser.body, { revoked: { userId: 'bob', revokedAt: /^\d{4}-/ } })
})

t.test('a session revocation closes its sockets on every instance within a second, and nothing else', async (t) => {
  const { a, b } = await startPair(t)
  const s1 = userToken('alice', { sid: 's1' })
  const s2 = userToken('alice', { sid: 's2' })
  const onA = await connectAs(t, `${a.wsUrl}/ws/events`, s1)
  const onB = await connectAs(t, `${b.wsUrl}/ws/events`, s1)
  const otherSession = await connectAs(t, `${b.wsUrl}/ws/events`, s2)
  const admin = await connectAs(t, `${a.wsUrl}/ws/admin`, adminToken('root'))
  await otherSession.subscribe('session.*')
  await admin.subscribe('session.*', 'security.*')
  // Issued before the revocation: it must not open a socket after it.
  const ticket = (await post(`${b.url}/ws/ticket`, {}, s1)).body.ticket as string

  const start = performance.now()
  const closes = [closedAfter(onA, start), closedAfter(onB, start)]
  const res = await revokeSession(a, 's1', { userId: 'alice' })
  t.equal(res.status, 202)
  const [closeA, closeB] = await Promise.all(closes)
  t.match(closeA, { code: 4001, reason: 'session_revoked' })
  t.match(closeB, { code: 4001, reason: 'session_revoked' })
  const slowest = Math.max(closeA?.ms ?? Infinity, closeB?.ms ?? Infinity)
  t.ok(slowest < REVOCATION_CLOSE_MS, `closed on both instances ${Math.round(closeA?.ms ?? 0)} ms / ${Math.round(closeB?.ms ?? 0)} ms after the request`)

  const revokedAt = (res.body.revoked as { revokedAt: string }).revokedAt
  const [seen] = await otherSession.events(1)
  t.match(seen, { type: 'session.revoked', userId: 'alice', sessionId: 's1', control: 'revocation', data: { sessionId: 's1', userId: 'alice', revokedAt, by: 'auth-service' } }, 'the user\'s own dashboards see it')
  t.equal((await otherSession.request('ping')).type, 'pong', 'the user\'s other session stays')
  t.match((await admin.next(isType('session.revoked'))).payload, { sessionId: 's1', userId: 'alice' }, 'admins see it')
  t.match((await admin.next(isType('security.session.revoked'))).payload, { audience: 'admin', data: { reason: 'session_revoked', sessionId: 's1', by: 'auth-service', serverId: 'a' } }, 'the revocation is audited')
  const closedOn = [await admin.next(isType('security.connection.revoked')), await admin.next(isType('security.connection.revoked'))]
  t.same(closedOn.map((f) => (f.payload.data as { serverId: string }).serverId).sort(), ['a', 'b'], 'each instance audits the sockets it closed')

  for (const gw of [a, b]) t.same(await outcome(t, `${gw.wsUrl}/ws/events`, s1), { code: 4001, reason: 'session_revoked' }, `no reconnect on ${gw.app.config.serverId}`)
  t.same(await (await connect(t, `${a.wsUrl}/ws/events?ticket=${ticket}`)).closed, { code: 4001, reason: 'session_revoked' }, 'nor with a ticket issued before')
  t.match(await post(`${a.url}/ws/ticket`, {}, s1), { status: 401, body: { message: 'session_revoked' } }, 'HTTP answers 401')
  t.equal(await outcome(t, `${a.wsUrl}/ws/events`, s2), 'alice', 'the other session still connects')
})

t.test('a user revocation closes every socket of the user everywhere; tokens issued after it are accepted', async (t) => {
  const { a, b } = await startPair(t)
  const old = [userToken('bob', { sid: 'b1' }), userToken('bob', { sid: 'b2' })]
  const bobA = await connectAs(t, `${a.wsUrl}/ws/events`, old[0] as string)
  const bobB = await connectAs(t, `${b.wsUrl}/ws/events`, old[1] as string)
  const carol = await connectAs(t, `${a.wsUrl}/ws/events`, userToken('carol'))
  await carol.subscribe('session.*')

  const start = performance.now()
  const closes = [closedAfter(bobA, start), closedAfter(bobB, start)]
  const res = await revokeUser(b, 'bob')
  t.equal(res.status, 202)
  const results = await Promise.all(closes)
  for (const close of results) t.match(close, { code: 4001, reason: 'session_revoked' })
  t.ok(Math.max(...results.map((r) => r.ms)) < REVOCATION_CLOSE_MS, `closed ${results.map((r) => Math.round(r.ms)).join(' / ')} ms after the request`)

  const withoutIat = createSigner({ key: TEST_SECRET, noTimestamp: true })({ sub: 'bob', sid: 'b3', exp: Math.floor(Date.now() / 1000) + 600 })
  for (const jwt of [...old, withoutIat]) t.same(await outcome(t, `${a.wsUrl}/ws/events`, jwt), { code: 4001, reason: 'session_revoked' })
  t.match(await post(`${b.url}/ws/ticket`, {}, old[0]), { status: 401, body: { message: 'session_revoked' } })

  // `iat` has whole seconds: a token counts as issued after the revocation from the next second on.
  const revokedAt = Date.parse((res.body.revoked as { revokedAt: string }).revokedAt)
  await until(() => Date.now() >= Math.ceil((revokedAt + 1) / 1000) * 1000, 2000, 'the second after the revocation')
  const fresh = userToken('bob', { sid: 'b4' })
  for (const gw of [a, b]) t.equal(await outcome(t, `${gw.wsUrl}/ws/events`, fresh), 'bob', `a new token connects on ${gw.app.config.serverId}`)
  t.equal((await post(`${a.url}/ws/ticket`, {}, fresh)).status, 200, 'and authenticates over HTTP')
  t.equal((await carol.request('ping')).type, 'pong', 'other users stay')
  t.equal(carol.frames.filter(isType('session.revoked')).length, 0, 'and never see bob\'s revocation')
})

t.test('a session revocation without its user goes to admins alone', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const carol = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('carol'))
  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken('root'))
  await carol.subscribe('session.*')
  await admin.subscribe('session.*')
  t.equal((await revokeSession(gw, 'unknown-user-session')).status, 202)
  t.match((await admin.events(1))[0], { type: 'session.revoked', sessionId: 'unknown-user-session', audience: 'admin' })
  await post(`${gw.url}/events`, { type: 'session.created' }, serviceToken())
  t.match(await carol.events(1), [{ type: 'session.created' }], 'the broadcast after it is carol\'s first event: the revocation never reached her')
})

t.test('a session.revoked published through POST /events closes nothing', async (t) => {
  const { a, b } = await startPair(t)
  const s1 = userToken('alice', { sid: 's1' })
  const alice = await connectAs(t, `${b.wsUrl}/ws/events`, s1)
  await alice.subscribe('session.*')
  const forged = { type: 'session.revoked', userId: 'alice', sessionId: 's1', data: { sessionId: 's1', userId: 'alice', revokedAt: new Date().toISOString(), by: 'root' } }
  t.match(await post(`${a.url}/events`, { ...forged, control: 'revocation' }, serviceToken()), { status: 400, body: { field: 'control' } }, 'the control mark cannot be set over HTTP')
  t.match(await post(`${a.url}/events`, { events: [{ ...forged, control: 'revocation' }] }, serviceToken()), { status: 400, body: { field: 'events.0.control' } })
  t.equal((await post(`${a.url}/events`, forged, serviceToken())).status, 202)
  const [event] = await alice.events(1)
  t.match(event, { type: 'session.revoked', userId: 'alice' }, 'delivered as an ordinary event')
  t.notOk(event !== undefined && 'control' in event, 'without the control mark')
  t.equal((await alice.request('ping')).type, 'pong', 'the socket stays open')
  t.equal(await outcome(t, `${a.wsUrl}/ws/events`, s1), 'alice', 'and the session can still connect')
})

t.test('reauthenticating with a revoked token gets UNAUTHORIZED session_revoked', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { sid: 's1' }))
  t.equal((await revokeSession(gw, 's2')).status, 202)
  const reply = await alice.request('reauthenticate', { token: userToken('alice', { sid: 's2' }) })
  t.match(reply, { type: 'error', payload: { code: 'UNAUTHORIZED', message: 'session_revoked' } })
  t.equal((await alice.request('ping')).type, 'pong', 'the connection keeps its own session')
})

t.test('a revocation lapses after REVOCATION_TTL', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, REVOCATION_TTL: '1000' })
  const s1 = userToken('alice', { sid: 's1' })
  t.equal((await revokeSession(gw, 's1')).status, 202)
  t.same(await outcome(t, `${gw.wsUrl}/ws/events`, s1), { code: 4001, reason: 'session_revoked' })
  await until(async () => await gw.app.store.get('revoked:session:s1') === null, 3000, 'the store to forget the revocation')
  t.equal(await outcome(t, `${gw.wsUrl}/ws/events`, s1), 'alice', 'the session connects again')
})
