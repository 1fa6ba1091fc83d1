import { performance } from 'node:perf_hooks'
import t, { type Test } from 'tap'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { connect, connectAs, type Frame, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/** The bound the revocation rule sets: every instance closes the covered sockets within it. */
const REVOCATION_CLOSE_MS = 1000
const REVOKED = { code: 4001, reason: 'token_revoked' }

const revokeToken = async (gw: Gateway, jti: string, bearer = adminToken('root')) =>
  await post(`${gw.url}/tokens/${encodeURIComponent(jti)}/revoke`, {}, bearer)

/** How an upgrade with `bearer` ends: the user it connected, or the close that refused it. */
async function outcome (t: Test, url: string, bearer: string): Promise<string | { code: number, reason: string }> {
  const client = await connect(t, url, { headers: { authorization: `Bearer ${bearer}` } })
  const first = await Promise.race([client.next('connected').then((f) => f.payload.userId as string, () => undefined), client.closed])
  return first ?? await client.closed
}

async function closedAfter (client: TestClient, since: number) {
  const closed = await within(client.closed, 5000, 'the revocation close')
  return { ...closed, ms: performance.now() - since }
}

const isType = (type: string) => (f: Frame): boolean => f.type === 'event' && f.payload.type === type

t.test('revoking a token needs role admin or service and a valid jti', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  t.match(await post(`${gw.url}/tokens/j1/revoke`, {}), { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED' } })
  t.match(await revokeToken(gw, 'j1', userToken('alice')), { status: 403, body: { code: 'EVENTGATE_FORBIDDEN' } })
  t.match(await revokeToken(gw, 'x'.repeat(257)), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'jti' } })
  t.equal((await revokeToken(gw, 'x'.repeat(256), serviceToken())).status, 202, 'a jti at its 256-character limit, by a service')
  const before = Date.now()
  const res = await revokeToken(gw, 'j1')
  t.equal(res.status, 202)
  t.same(Object.keys(res.body.revoked as object).sort(), ['revokedAt', 'tokenId'])
  t.match(res.body, { revoked: { tokenId: 'j1', revokedAt: /^\d{4}-\d\d-\d\dT/ } })
  t.ok(Date.parse((res.body.revoked as { revokedAt: string }).revokedAt) >= before)
})

for (const [name, env] of [['one partition', {}], ['a partitioned log', { REDIS_PARTITIONS: '4' }]] as const) {
  t.test(`on two gateways on Redis (${name}): the token's sockets close everywhere within a second, nothing else`, async (t) => {
    const { a, b } = await startPair(t, env)
    const revoked = userToken('alice', { sid: 's1', jti: 'j1' })
    const sibling = userToken('alice', { sid: 's1', jti: 'j2' })
    const onA = await connectAs(t, `${a.wsUrl}/ws/events`, revoked)
    const onB = await connectAs(t, `${b.wsUrl}/ws/events`, revoked)
    const stays = await connectAs(t, `${b.wsUrl}/ws/events`, sibling)
    const admin = await connectAs(t, `${b.wsUrl}/ws/admin`, adminToken('root'))
    await admin.subscribe('session.*', 'security.*')
    // Issued before the revocation: it must not open a socket after it.
    const ticket = (await post(`${b.url}/ws/ticket`, {}, revoked)).body.ticket as string

    const start = performance.now()
    const closes = [closedAfter(onA, start), closedAfter(onB, start)]
    t.equal((await revokeToken(a, 'j1')).status, 202)
    const results = await Promise.all(closes)
    for (const close of results) t.match(close, REVOKED)
    t.ok(Math.max(...results.map((r) => r.ms)) < REVOCATION_CLOSE_MS, `closed ${results.map((r) => Math.round(r.ms)).join(' / ')} ms after the request`)

    t.equal((await stays.request('ping')).type, 'pong', 'the same user\'s other token of the same session stays open')
    t.match((await admin.next(isType('session.revoked'))).payload, { audience: 'admin', control: 'revocation', data: { tokenId: 'j1', by: 'root' } }, 'admins see it')
    t.match((await admin.next(isType('security.session.revoked'))).payload, { data: { reason: 'token_revoked', tokenId: 'j1', by: 'root', serverId: 'a' } }, 'the revocation is audited')
    const closedOn = [await admin.next(isType('security.connection.revoked')), await admin.next(isType('security.connection.revoked'))]
    t.same(closedOn.map((f) => (f.payload.data as { serverId: string }).serverId).sort(), ['a', 'b'], 'each instance audits the socket it closed')
    t.match(closedOn[0]?.payload, { data: { reason: 'token_revoked', tokenId: 'j1', userId: 'alice' } })

    for (const gw of [a, b]) {
      const id = gw.app.config.serverId
      t.same(await outcome(t, `${gw.wsUrl}/ws/events`, revoked), REVOKED, `no reconnect on ${id}`)
      t.match(await post(`${gw.url}/ws/ticket`, {}, revoked), { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED', message: 'token_revoked' } }, `HTTP answers 401 on ${id}`)
      t.equal(await outcome(t, `${gw.wsUrl}/ws/events`, sibling), 'alice', `the other token connects on ${id}`)
    }
    t.same(await (await connect(t, `${a.wsUrl}/ws/events?ticket=${ticket}`)).closed, REVOKED, 'nor with a ticket issued before')
    t.match(await stays.request('reauthenticate', { token: revoked }), { type: 'error', payload: { code: 'UNAUTHORIZED', message: 'token_revoked' } }, 'reauthenticating with it is refused')
    t.equal((await stays.request('ping')).type, 'pong', 'and the connection keeps its own token')
  })
}

t.test('on the memory bus: the token\'s socket closes; one that moved to another token stays', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const revoked = userToken('bob', { jti: 'j1' })
  const holder = await connectAs(t, `${gw.wsUrl}/ws/events`, revoked)
  const moved = await connectAs(t, `${gw.wsUrl}/ws/events`, revoked)
  t.equal((await moved.request('reauthenticate', { token: userToken('bob', { jti: 'j3' }) })).type, 'reauthenticated')
  const closed = within(holder.closed, REVOCATION_CLOSE_MS, 'the revocation close')
  t.equal((await revokeToken(gw, 'j1')).status, 202)
  t.same(await closed, REVOKED)
  t.equal((await moved.request('ping')).type, 'pong', 'a socket reauthenticated with another token is that token\'s now')
  t.same(await outcome(t, `${gw.wsUrl}/ws/events`, revoked), REVOKED)
  t.match(await post(`${gw.url}/ws/ticket`, {}, revoked), { status: 401, body: { message: 'token_revoked' } })
})
