import t from 'tap'
import { serviceToken, token, userToken } from '../../harness/tokens.js'
import { connect, connectAs, refusedUpgrade } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const FORGED = token({ sub: 'alice' }, 'a-secret-the-gateway-does-not-know-0123456789')
const failures = async (gw: { app: { store: { get: (key: string) => Promise<string | null> } } }, ip = '127.0.0.1'): Promise<number> =>
  Number(await gw.app.store.get(`authfail:${ip}`) ?? 0)

t.test('requests without a token do not lock a valid user of the same address out', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_AUTH_TIMEOUT: '50' })
  for (let i = 0; i < 25; i++) {
    t.equal((await post(`${gw.url}/events`, { type: 'a.b' })).status, 401)
    t.same(await (await connect(t, `${gw.wsUrl}/ws/events`)).closed, { code: 4001, reason: 'auth_timeout' })
  }
  t.equal(await failures(gw), 0, 'none of the 50 counted')
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken())).status, 202, 'a valid publisher')
  await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.match(await post(`${gw.url}/events`, { type: 'a.b' }, FORGED), { status: 401, body: { message: 'token_invalid' } }, 'the address is not blocked')
})

t.test('from a blocked address a valid token passes, a failing one gets 429 and is not counted again', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_COOLDOWN: '60000', WEBSOCKET_AUTH_TIMEOUT: '50' })
  for (let i = 0; i < 3; i++) t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)).status, 401)
  const blocked = await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)
  t.match(blocked, { status: 429, body: { code: 'EVENTGATE_TOO_MANY_AUTH_FAILURES' } })
  t.ok(Number(blocked.headers.get('retry-after')) > 50, 'Retry-After: the cool-down')
  const refused = await refusedUpgrade(`${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${FORGED}` } })
  t.same([refused.status, Number(refused.retryAfter) > 50], [429, true], 'a failing upgrade is refused before any socket exists')
  t.equal((await get(`${gw.url}/ws/stats`, 'not-a-jwt')).status, 429)
  t.equal(await failures(gw), 3, 'failures from the blocked address are not counted again')

  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken())).status, 202, 'a valid publish')
  t.equal((await post(`${gw.url}/ws/ticket`, {}, userToken('alice'))).status, 200, 'a valid ticket request')
  await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.match(await post(`${gw.url}/events`, { type: 'a.b' }), { status: 401, body: { message: 'token_missing' } }, 'no token: 401, not 429')
  t.same(await (await connect(t, `${gw.wsUrl}/ws/events`)).closed, { code: 4001, reason: 'auth_timeout' }, 'no token: it may still authenticate')
})

t.test('failed reauthentications count against the socket\'s address, and close it once blocked', async (t) => {
  // A burst above the 300 frames, so the message rate limit is not what stops them.
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_COOLDOWN: '60000', WEBSOCKET_MESSAGE_BURST: '1000' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  let answered = 0
  for (let i = 0; i < 300 && alice.socket.readyState === alice.socket.OPEN; i++) {
    const id = `forged-${i}`
    alice.send({ type: 'reauthenticate', id, payload: { token: FORGED } })
    const reply = await alice.next((f) => f.id === id).catch(() => undefined)
    if (reply === undefined) break
    t.match(reply.payload, { code: 'UNAUTHORIZED', message: 'token_invalid' })
    answered++
  }
  t.equal(answered, 5, 'AUTH_FAILURE_LIMIT tokens were checked, not 300')
  t.same(await within(alice.closed, 5000, 'the close'), { code: 1008, reason: 'too_many_auth_failures' })
  t.equal(await failures(gw), 5)

  t.match(await post(`${gw.url}/events`, { type: 'a.b' }, FORGED), { status: 429 }, 'the address is blocked for HTTP too')
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  const renewed = await bob.request('reauthenticate', { token: userToken('bob') })
  t.equal(renewed.type, 'reauthenticated', 'a valid token still renews from the blocked address')
  bob.send({ type: 'reauthenticate', id: 'x', payload: { token: FORGED } })
  t.same(await within(bob.closed, 5000, 'the close'), { code: 1008, reason: 'too_many_auth_failures' }, 'one failure from a blocked address closes at once')
  t.equal(await failures(gw), 5, 'and is not counted again')
})

t.test('behind a trusted proxy, reauthentication failures count against the forwarded address', async (t) => {
  const gw = await startGateway(t, { TRUST_PROXY: '127.0.0.1', AUTH_FAILURE_LIMIT: '2' })
  const headers = { authorization: `Bearer ${userToken('alice')}`, 'x-forwarded-for': '203.0.113.7' }
  const alice = await connect(t, `${gw.wsUrl}/ws/events`, { headers })
  await alice.next('connected')
  t.match((await alice.request('reauthenticate', { token: FORGED })).payload, { code: 'UNAUTHORIZED' })
  t.equal(await failures(gw, '203.0.113.7'), 1, 'the client behind the proxy')
  t.equal(await failures(gw), 0, 'not the proxy, which every client shares')
})

t.test('METRICS_TOKEN: a wrong token counts, a missing one does not, the right one passes a block', async (t) => {
  const metricsToken = 'metrics-token-0123456789'
  const gw = await startGateway(t, { METRICS_TOKEN: metricsToken, AUTH_FAILURE_LIMIT: '2' })
  const scrape = async (bearer?: string): Promise<number> =>
    (await fetch(`${gw.url}/metrics`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } })).status
  for (let i = 0; i < 5; i++) t.equal(await scrape(), 401)
  t.equal(await failures(gw), 0)
  t.same([await scrape('wrong-token-000000'), await scrape('wrong-token-000000'), await scrape('wrong-token-000000')], [401, 401, 429])
  t.equal(await scrape(metricsToken), 200)
})
