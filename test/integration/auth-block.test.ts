import t from 'tap'
import { token } from '../../harness/tokens.js'
import { post, startGateway } from '../helpers/gateway.js'

const FORGED = token({ sub: 'alice' }, 'a-secret-the-gateway-does-not-know-0123456789')

/** What a browser or a probe fetches without logging in: none of it may be locked by a block. */
const OPEN = [
  '/', '/dashboard', '/dashboard/dashboard.css', '/dashboard/app.js', '/docs', '/docs/json', '/docs/static/swagger-ui.css',
  '/docs/static/swagger-ui-bundle.js', '/asyncapi.json', '/livez', '/readyz', '/ws/health'
]

t.test('a blocked address is told until when and by which settings, and still reaches the pages and probes', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '2', AUTH_FAILURE_WINDOW: '60000', AUTH_FAILURE_COOLDOWN: '90000' })
  for (let i = 0; i < 2; i++) t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)).status, 401)
  const before = Date.now()
  const blocked = await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)
  t.match(blocked, { status: 429, body: { code: 'EVENTGATE_TOO_MANY_AUTH_FAILURES' } })
  const message = String(blocked.body.message)
  const until = Date.parse(/blocked until (\S+)/.exec(message)?.[1] ?? '')
  t.ok(until > before + 80_000 && until <= Date.now() + 90_000, `an ISO time about AUTH_FAILURE_COOLDOWN away: ${message}`)
  t.match(message, 'AUTH_FAILURE_LIMIT=2 failures within AUTH_FAILURE_WINDOW=60000 ms')
  t.match(message, 'AUTH_FAILURE_COOLDOWN=90000 ms')

  // A stale token in a header or a cookie, as a browser left logged in sends it, changes nothing.
  const headers = { authorization: `Bearer ${FORGED}`, cookie: `access_token=${FORGED}` }
  for (const path of OPEN) {
    const response = await fetch(`${gw.url}${path}`, { headers })
    await response.arrayBuffer()
    t.equal(response.status, 200, `${path} is served to the blocked address`)
  }
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)).status, 429, 'and the address is still blocked')
})

t.test('in development, loopback is never blocked; other addresses are', async (t) => {
  const gw = await startGateway(t, { NODE_ENV: 'development', LOG_LEVEL: 'silent', TRUST_PROXY: '127.0.0.1', AUTH_FAILURE_LIMIT: '2' })
  const failures = async (ip: string): Promise<number> => Number(await gw.app.store.get(`authfail:${ip}`) ?? 0)
  for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
    for (let i = 0; i < 4; i++) {
      t.match(await post(`${gw.url}/events`, { type: 'a.b' }, FORGED, { 'x-forwarded-for': ip }), { status: 401, body: { message: 'token_invalid' } }, `${ip}, attempt ${i + 1}`)
    }
    t.equal(await failures(ip), 0, `${ip} is not counted`)
  }
  const remote = { 'x-forwarded-for': '203.0.113.7' }
  t.same([
    (await post(`${gw.url}/events`, { type: 'a.b' }, FORGED, remote)).status,
    (await post(`${gw.url}/events`, { type: 'a.b' }, FORGED, remote)).status,
    (await post(`${gw.url}/events`, { type: 'a.b' }, FORGED, remote)).status
  ], [401, 401, 429], 'a remote address is blocked in development too')
})

t.test('outside development, loopback is blocked like any address', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '1' })
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)).status, 401)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, FORGED)).status, 429)
})
