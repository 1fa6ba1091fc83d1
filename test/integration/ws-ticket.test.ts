import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { adminToken, userToken } from '../../harness/tokens.js'
import { connect, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { type Gateway, get, post, startGateway } from '../helpers/gateway.js'

const now = (): number => Math.floor(Date.now() / 1000)
const keyOf = (ticket: string): string => `eventgate:ticket:${createHash('sha256').update(ticket).digest('hex')}`

async function issue (gw: Gateway, bearer: string): Promise<{ ticket: string, expiresAt: string }> {
  const res = await post(`${gw.url}/ws/ticket`, {}, bearer)
  if (res.status !== 200) throw new Error(`POST /ws/ticket answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body as { ticket: string, expiresAt: string }
}

async function withTicket (t: Test, gw: Gateway, ticket: string, path = '/ws/events'): Promise<TestClient> {
  return await connect(t, `${gw.wsUrl}${path}?ticket=${encodeURIComponent(ticket)}`)
}

t.test('POST /ws/ticket: a fresh single-use ticket for a valid token, 401 without one', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const refused = await post(`${gw.url}/ws/ticket`, {})
  t.equal(refused.status, 401)
  t.match(refused.body, { code: 'EVENTGATE_UNAUTHORIZED', message: 'token_missing' })

  const before = Date.now()
  const res = await post(`${gw.url}/ws/ticket`, {}, userToken('alice'))
  const after = Date.now()
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store', 'no cache keeps a credential')
  const { ticket, expiresAt } = res.body as { ticket: string, expiresAt: string }
  t.match(ticket, /^[A-Za-z0-9_-]{43}$/)
  const expires = Date.parse(expiresAt)
  t.ok(expires >= before + 30_000 && expires <= after + 30_000, `valid for TICKET_TTL (30 s): ${expiresAt}`)
  t.not((await issue(gw, userToken('alice'))).ticket, ticket, 'each ticket is new')
  const asBrowsers = await fetch(`${gw.url}/ws/ticket`, { method: 'POST', headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.equal(asBrowsers.status, 200, 'a POST without a body, as in docs/protocol.md')

  const client = await withTicket(t, gw, ticket)
  t.equal((await client.next('connected')).payload.userId, 'alice')
})

t.test('a ticket issued on one instance opens one socket on the other, once; Redis holds only its hash', async (t) => {
  const { a, b } = await startPair(t)
  const exp = now() + 600
  const { ticket } = await issue(a, userToken('alice', { exp }))
  const redis = a.app.redis
  if (redis === null) throw new Error('gateway a has no Redis')
  t.same(await redis.keys('eventgate:ticket:*'), [keyOf(ticket)], 'stored under the hash of the ticket')
  t.notOk((await redis.get(keyOf(ticket)))?.includes(ticket), 'the raw ticket is nowhere in Redis')

  const onB = await withTicket(t, b, ticket)
  const connected = await onB.next('connected')
  t.match(connected.payload, { userId: 'alice', serverId: 'b', expiresAt: new Date(exp * 1000).toISOString() }, 'bound to the token\'s user and exp')
  t.same(await redis.keys('eventgate:ticket:*'), [], 'used up')

  t.same(await (await withTicket(t, a, ticket)).closed, { code: 4001, reason: 'ticket_invalid' }, 'second use, on the issuing instance')
  t.same(await (await withTicket(t, b, ticket)).closed, { code: 4001, reason: 'ticket_invalid' }, 'third use, on the other')
  t.equal((await onB.request('ping')).type, 'pong', 'the socket the ticket opened stays')
})

t.test('a ticket carries its token\'s roles and never outlives its exp', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const user = await withTicket(t, gw, (await issue(gw, userToken('alice'))).ticket, '/ws/admin')
  t.same(await user.closed, { code: 4003, reason: 'admin_required' }, 'a user\'s ticket does not open /ws/admin')
  const admin = await withTicket(t, gw, (await issue(gw, adminToken('root'))).ticket, '/ws/admin')
  t.equal((await admin.next('connected')).payload.userId, 'root')

  const exp = now() + 5
  const short = await issue(gw, userToken('alice', { exp }))
  t.equal(short.expiresAt, new Date(exp * 1000).toISOString(), 'expires with a token that ends before TICKET_TTL')
})

t.test('an expired ticket closes 4001 ticket_invalid, from Redis and from memory', async (t) => {
  const { a, b } = await startPair(t, { TICKET_TTL: '200' })
  const { ticket, expiresAt } = await issue(a, userToken('alice'))
  t.ok(Date.parse(expiresAt) - Date.now() <= 200)
  const redis = a.app.redis
  if (redis === null) throw new Error('gateway a has no Redis')
  await until(async () => await redis.exists(keyOf(ticket)) === 0, 2000, 'Redis to expire the ticket')
  t.same(await (await withTicket(t, b, ticket)).closed, { code: 4001, reason: 'ticket_invalid' })

  const single = await startGateway(t, { ...LENIENT_LIMITS, TICKET_TTL: '200' })
  const local = await issue(single, userToken('alice'))
  await until(() => Date.now() >= Date.parse(local.expiresAt), 2000, 'the ticket\'s expiry')
  t.same(await (await withTicket(t, single, local.ticket)).closed, { code: 4001, reason: 'ticket_invalid' })
})

t.test('forged tickets close 4001 ticket_invalid and spend nothing', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const { ticket } = await issue(gw, userToken('alice'))
  const altered = `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`
  for (const forged of [altered, 'A'.repeat(43), 'not-a-ticket', userToken('alice')]) {
    t.same(await (await withTicket(t, gw, forged)).closed, { code: 4001, reason: 'ticket_invalid' }, forged.slice(0, 20))
  }
  t.equal((await (await withTicket(t, gw, ticket)).next('connected')).payload.userId, 'alice', 'the real ticket still works')
})

t.test('a ticket counts on WebSocket upgrades only', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const { ticket } = await issue(gw, adminToken('root'))
  const res = await get(`${gw.url}/ws/stats?ticket=${ticket}`)
  t.equal(res.status, 401)
  t.match(res.body, { message: 'token_missing' })
  t.equal((await (await withTicket(t, gw, ticket, '/ws/admin')).next('connected')).payload.userId, 'root', 'and the HTTP request did not spend it')
})

t.test('no ticket reaches a log line', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS, { captureLogs: true })
  const { ticket } = await issue(gw, userToken('alice'))
  await (await withTicket(t, gw, ticket)).next('connected')
  await (await withTicket(t, gw, ticket)).closed
  const all = gw.logs.join('\n')
  t.notOk(all.includes(ticket), 'not the ticket')
  t.notOk(all.includes(ticket.slice(0, 16)), 'nor a part of it')
  t.match(all, /ticket=\[REDACTED\]/, 'the upgrade URL is logged with the value redacted')
  t.match(all, /"reason":"ticket_invalid"/, 'the refused second use is audited')
})
