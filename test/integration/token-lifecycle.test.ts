import t from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connectAs, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const now = (): number => Math.floor(Date.now() / 1000)
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

/** The close, with the time the client saw it: taken from the start, so a late await cannot hide an early close. */
function closeOf (client: TestClient): Promise<{ code: number, reason: string, at: number }> {
  return client.closed.then((closed) => ({ ...closed, at: Date.now() }))
}

t.test('token_expiring comes TOKEN_EXPIRY_WARNING before exp; at exp the socket is closed 4001 token_expired', async (t) => {
  const gw = await startGateway(t, { TOKEN_EXPIRY_WARNING: '500' })
  const exp = now() + 2
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { exp }))
  const closed = closeOf(client)
  const warning = await client.next('token_expiring', 3000)
  const warnedAt = Date.now()
  t.same(warning.payload, { expiresAt: iso(exp) })
  t.ok(warnedAt >= exp * 1000 - 500 && warnedAt < exp * 1000, `warned ${exp * 1000 - warnedAt} ms before exp`)
  t.equal((await client.request('ping')).type, 'pong', 'still served after the warning')
  const { at, ...close } = await within(closed, 3000, 'the close at exp')
  t.same(close, { code: 4001, reason: 'token_expired' })
  t.ok(at >= exp * 1000 && at - exp * 1000 < 500, `closed ${at - exp * 1000} ms after exp`)
  await until(() => gw.app.hub.size === 0, 2000, 'the hub to let go of the connection')
})

t.test('token_expiring comes at once for a token already that close; none with TOKEN_EXPIRY_WARNING=0 or without exp', async (t) => {
  const gw = await startGateway(t)
  const exp = now() + 30
  const close = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { exp }))
  t.same(await close.next(), { type: 'token_expiring', payload: { expiresAt: iso(exp) } }, 'the frame right after connected')

  const endless = await connectAs(t, `${gw.wsUrl}/ws/events`, token({ sub: 'alice', exp: undefined }))
  endless.send({ type: 'ping', id: 'p' })
  t.equal((await endless.next()).type, 'pong', 'a token without exp: no warning')

  const quiet = await startGateway(t, { TOKEN_EXPIRY_WARNING: '0' })
  const unwarned = await connectAs(t, `${quiet.wsUrl}/ws/events`, userToken('alice', { exp }))
  unwarned.send({ type: 'ping', id: 'p' })
  t.equal((await unwarned.next()).type, 'pong', 'TOKEN_EXPIRY_WARNING=0: no warning')
})

t.test('reauthenticate with a fresh token moves the deadline: the socket outlives the first exp', async (t) => {
  const gw = await startGateway(t, { TOKEN_EXPIRY_WARNING: '1000' })
  const exp = now() + 2
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { exp }))
  await client.subscribe('authentication.*')
  await client.next('token_expiring', 3000)
  const freshExp = now() + 3600
  const reply = await client.request('reauthenticate', { token: userToken('alice', { exp: freshExp }) })
  t.same(reply.payload, { expiresAt: iso(freshExp) })
  t.equal(reply.type, 'reauthenticated')
  // The refresh is itself an `authentication.*` event to the user: out of the way first.
  await client.next((f) => f.type === 'event' && f.payload.type === 'authentication.token.refresh')

  await until(() => Date.now() > exp * 1000 + 200, 5000, 'the first token\'s exp to pass')
  const published = await post(`${gw.url}/events`, { type: 'authentication.login.success', userId: 'alice' }, serviceToken())
  const [event] = await client.events(1)
  t.equal(event?.id, (published.body.ids as string[])[0], 'an event published after the first exp arrives')
  t.notOk(client.frames.some((f) => f.type === 'token_expiring'), 'and no second warning for the old deadline')
})

t.test('re-authenticate is reauthenticate under the documents\' name: same reply, same checks', async (t) => {
  const gw = await startGateway(t)
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const exp = now() + 3600
  client.send({ type: 're-authenticate', id: 'r', payload: { token: userToken('alice', { exp }) } })
  t.same(await client.next((f) => f.id === 'r'), { type: 'reauthenticated', id: 'r', payload: { expiresAt: iso(exp) } })
  client.send({ type: 're-authenticate', id: 'bad', payload: { token: 'not-a-jwt' } })
  t.match(await client.next((f) => f.id === 'bad'), { type: 'error', payload: { code: 'UNAUTHORIZED', message: /token_invalid/ } })
  const closed = closeOf(client)
  client.send({ type: 're-authenticate', payload: { token: userToken('mallory') } })
  t.match(await within(closed, 3000, 'the close for another user\'s token'), { code: 4001, reason: 'token_user_mismatch' })
})

t.test('the new token\'s exp is the new deadline, even an earlier one; its warning follows the reply', async (t) => {
  const gw = await startGateway(t, { TOKEN_EXPIRY_WARNING: '500' })
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const closed = closeOf(client)
  const exp = now() + 2
  client.send({ type: 'reauthenticate', id: 'r', payload: { token: userToken('alice', { exp }) } })
  t.same(await client.next(), { type: 'reauthenticated', id: 'r', payload: { expiresAt: iso(exp) } })
  t.same(await client.next('token_expiring', 3000), { type: 'token_expiring', payload: { expiresAt: iso(exp) } })
  const { at, ...close } = await within(closed, 3000, 'the close at the new exp')
  t.same(close, { code: 4001, reason: 'token_expired' })
  t.ok(at >= exp * 1000, `closed ${at - exp * 1000} ms after the new exp`)
})

t.test('a token for another user closes 4001 token_user_mismatch', async (t) => {
  const gw = await startGateway(t)
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  client.send({ type: 'reauthenticate', payload: { token: userToken('mallory') } })
  t.same(await client.closed, { code: 4001, reason: 'token_user_mismatch' })
})

t.test('an invalid token gets an UNAUTHORIZED error, and the connection keeps its deadline', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, TOKEN_EXPIRY_WARNING: '0' })
  const exp = now() + 2
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { exp }))
  const closed = closeOf(client)
  const cases: Array<[string, string]> = [
    ['not-a-jwt', 'token_invalid'],
    [token({ sub: 'alice', exp: now() - 10 }), 'token_expired'],
    [token({ sub: 'alice' }, 'another-secret-that-is-also-long-enough-000000'), 'token_invalid'],
    [token({ sub: 'alice', nbf: now() + 600 }), 'token_invalid']
  ]
  for (const [jwt, reason] of cases) {
    const reply = await client.request('reauthenticate', { token: jwt })
    t.match(reply, { type: 'error', payload: { code: 'UNAUTHORIZED', message: reason } }, reason)
  }
  t.match(await client.request('reauthenticate', {}), { type: 'error', payload: { code: 'INVALID_MESSAGE' } }, 'no token at all')
  const { at, ...close } = await within(closed, 3000, 'the close at the first exp')
  t.same(close, { code: 4001, reason: 'token_expired' }, 'closed at the deadline it had')
  t.ok(at >= exp * 1000)
})

t.test('/ws/admin: a fresh admin token is taken, one without role admin closes 4003', async (t) => {
  const gw = await startGateway(t)
  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken('root'))
  t.equal((await admin.request('reauthenticate', { token: adminToken('root') })).type, 'reauthenticated')
  admin.send({ type: 'reauthenticate', payload: { token: token({ sub: 'root' }) } })
  t.same(await admin.closed, { code: 4003, reason: 'admin_required' })
})

t.test('frames sent after a reauthenticate are answered after it', async (t) => {
  // On Redis the revocation check is a network round trip, time for the ping to overtake it.
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { REDIS_URL: redis.url })
  await until(() => gw.app.bus.connected, 10_000, 'Redis')
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  client.send({ type: 'reauthenticate', id: 'first', payload: { token: userToken('alice') } })
  client.send({ type: 'ping', id: 'second' })
  t.equal((await client.next((f) => f.id !== undefined)).id, 'first')
  t.equal((await client.next((f) => f.id !== undefined)).id, 'second')
})
