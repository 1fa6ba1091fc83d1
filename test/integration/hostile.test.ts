import { performance } from 'node:perf_hooks'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { serviceToken, token, userToken } from '../../harness/tokens.js'
import { connect, connectAs, type TestClient } from '../helpers/client.js'
import { get, type Gateway, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/**
 * Hostile input against a live gateway: each malformed frame or request is refused in its
 * documented way, and afterwards the process is healthy and another user still gets events.
 */

// The auth-failure limiter would turn the later 401s of a file into 429s; it is not under test here.
const ENV = { AUTH_FAILURE_LIMIT: '1000' }

/** Health 200, and `bystander` (subscribed to `*` as bob) still receives an event addressed to bob. */
async function assertIntact (t: Test, gw: Gateway, bystander: TestClient, what: string): Promise<void> {
  const health = await get(`${gw.url}/ws/health`)
  t.equal(health.status, 200, `${what}: health 200`)
  const published = await post(`${gw.url}/events`, { type: 'session.created', userId: 'bob', data: { after: what } }, serviceToken())
  t.equal(published.status, 202, `${what}: publishing still works`)
  const [event] = await bystander.events(1)
  t.same(event?.data, { after: what }, `${what}: another user's delivery is intact`)
}

async function bystanderOf (t: Test, gw: Gateway): Promise<TestClient> {
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  t.equal((await bob.subscribe('*')).type, 'subscribed')
  return bob
}

/** Log lines at level error or above: a client's bad frame is its fault, not the gateway's. */
const errorLines = (gw: Gateway): string[] => gw.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)

t.test('a frame larger than WEBSOCKET_MAX_PAYLOAD closes that socket 1009; one at the limit is served', async (t) => {
  const gw = await startGateway(t, { ...ENV, WEBSOCKET_MAX_PAYLOAD: '1024' }, { captureLogs: true })
  const bob = await bystanderOf(t, gw)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const atLimit = paddedPing('edge', 1024)
  t.equal(Buffer.byteLength(atLimit), 1024)
  alice.send(atLimit)
  t.equal((await alice.next((f) => f.id === 'edge')).type, 'pong', 'exactly WEBSOCKET_MAX_PAYLOAD bytes is accepted')
  alice.send(paddedPing('over', 1025))
  t.equal((await within(alice.closed, 5000, 'the close')).code, 1009, 'one byte more closes 1009')
  t.notOk(alice.frames.some((f) => f.id === 'over'), 'the oversize frame was not handled')
  await assertIntact(t, gw, bob, 'oversize frame')
  await until(() => gw.app.hub.size === 1, 5000, 'the hub to release the closed connection')
  t.equal(gw.app.hub.size, 1, 'the closed connection is released')
  t.same(errorLines(gw), [], 'nothing is logged as an error of the gateway')
})

t.test('a text frame that is not UTF-8 closes that socket 1007', async (t) => {
  const gw = await startGateway(t, ENV, { captureLogs: true })
  const bob = await bystanderOf(t, gw)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  alice.socket.send(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), { binary: false })
  t.equal((await within(alice.closed, 5000, 'the close')).code, 1007, 'invalid UTF-8: 1007')
  await assertIntact(t, gw, bob, 'invalid UTF-8')
  t.same(errorLines(gw), [], 'nothing is logged as an error of the gateway')
})

t.test('deeply nested JSON within the size limit gets an error frame; the connection stays usable', async (t) => {
  const gw = await startGateway(t, ENV)
  const bob = await bystanderOf(t, gw)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const depth = 20_000
  const deepArray = '['.repeat(depth) + ']'.repeat(depth)
  const deepObject = '{"a":'.repeat(depth / 4) + '1' + '}'.repeat(depth / 4)
  const cases: Array<[string, string, string, RegExp]> = [
    ['unclosed [ x 20000', '['.repeat(depth), 'INVALID_MESSAGE', /not valid JSON/],
    ['balanced [ x 20000', deepArray, 'INVALID_MESSAGE', /must be a JSON object/],
    ['nested array as a pattern', `{"type":"subscribe","id":"p","payload":{"eventTypes":[${deepArray}]}}`, 'INVALID_PATTERN', /must be a string/],
    ['nested array as eventTypes', `{"type":"subscribe","id":"e","payload":{"eventTypes":${deepArray}}}`, 'INVALID_PATTERN', /must be a string/],
    ['nested array as id', `{"type":"ping","id":${deepArray}}`, 'INVALID_MESSAGE', /^id must be/],
    ['nested object as type', `{"type":${deepObject}}`, 'INVALID_MESSAGE', /^type must be/]
  ]
  for (const [name, frame, code, message] of cases) {
    t.ok(Buffer.byteLength(frame) < 64 * 1024, `${name} fits in one frame`)
    alice.send(frame)
    const error = await alice.next('error')
    t.equal(error.payload.code, code, name)
    t.match(error.payload.message, message, name)
    t.ok(JSON.stringify(error).length < 400, `${name}: the error does not echo the input`)
    t.equal((await alice.request('ping')).type, 'pong', `${name}: the connection still answers`)
  }
  alice.send(`{"type":"ping","id":"deep-payload","payload":${deepObject}}`)
  t.equal((await alice.next((f) => f.id === 'deep-payload')).type, 'pong', 'a deep payload a request ignores does not disturb it')
  await assertIntact(t, gw, bob, 'deep nesting')
})

t.test('a pattern longer than WEBSOCKET_MAX_PATTERN_LENGTH is INVALID_PATTERN', async (t) => {
  const gw = await startGateway(t, { ...ENV, WEBSOCKET_MAX_PATTERN_LENGTH: '16' })
  const bob = await bystanderOf(t, gw)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.match((await alice.subscribe('a'.repeat(16))).payload, { eventTypes: ['a'.repeat(16)] }, 'at the limit')
  const over = await alice.subscribe('a.*', 'b'.repeat(17))
  t.equal(over.payload.code, 'INVALID_PATTERN')
  t.match(over.payload.message, /at most 16 characters/)
  const hostile = await alice.subscribe('x'.repeat(60_000))
  t.equal(hostile.payload.code, 'INVALID_PATTERN', 'a 60,000-character pattern')
  t.ok(String(hostile.payload.message).length < 120, 'is quoted shortened, not echoed whole')
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: ['a'.repeat(16)] }, 'a refused subscribe adds nothing')
  await assertIntact(t, gw, bob, 'long patterns')
})

t.test('a subscribe listing 100,000 patterns is TOO_MANY_SUBSCRIPTIONS at once, none of them validated', async (t) => {
  const gw = await startGateway(t, { ...ENV, WEBSOCKET_MAX_PAYLOAD: String(4 * 1024 * 1024) })
  const bob = await bystanderOf(t, gw)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  // The last one is invalid: validated one by one, the answer would be INVALID_PATTERN.
  const eventTypes = Array.from({ length: 100_000 }, (_, i) => (i === 99_999 ? 'not..valid' : `p${i}.x.*`))
  const sentAt = performance.now()
  const refused = await alice.subscribe(...eventTypes)
  const elapsed = performance.now() - sentAt
  t.comment(`answered in ${Math.round(elapsed)} ms`)
  t.match(refused.payload, { code: 'TOO_MANY_SUBSCRIPTIONS', message: /at most 100 patterns/ })
  t.ok(elapsed < 2000, 'quickly')
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: [] }, 'nothing subscribed')
  await assertIntact(t, gw, bob, '100,000 patterns')
})

t.test('hostile tokens on HTTP: oversized headers get 431 from Node, bad claims 401', async (t) => {
  const gw = await startGateway(t, ENV)
  const bob = await bystanderOf(t, gw)
  const body = { type: 'security.alert' }
  // Node refuses request headers over 16 KiB (http.maxHeaderSize) before Fastify sees them.
  const huge = await rawStatus(`${gw.url}/events`, { authorization: `Bearer ${'a'.repeat(100 * 1024)}` })
  t.equal(huge, 431, '100 KB token: 431 Request Header Fields Too Large')
  // Under Node's limit, the gateway's own 8192-character cap answers.
  const long = await post(`${gw.url}/events`, body, `${serviceToken()}${'a'.repeat(9000)}`)
  t.match(long, { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED', message: 'token_invalid' } }, '9 KB token: 401')
  const claims: Array<[string, Record<string, unknown>]> = [
    ['no sub', { roles: ['service'] }],
    ['numeric sub', { sub: 42, roles: ['service'] }],
    ['object sub', { sub: { id: 'x' }, roles: ['service'] }],
    ['array sub', { sub: ['auth-service'], roles: ['service'] }],
    ['empty sub', { sub: '', roles: ['service'] }],
    ['null sub', { sub: null, roles: ['service'] }]
  ]
  for (const [name, claim] of claims) {
    const res = await post(`${gw.url}/events`, body, token(claim))
    t.match(res, { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED', message: 'token_invalid' } }, name)
  }
  const socket = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${token({ sub: 42 })}` } })
  t.same(await within(socket.closed, 5000, 'the close'), { code: 4001, reason: 'token_invalid' }, 'a numeric sub on a socket: 4001')
  await assertIntact(t, gw, bob, 'hostile tokens')
})

t.test('data over EVENT_MAX_DATA_BYTES is 400 naming the field, and nothing of the body is published', async (t) => {
  const gw = await startGateway(t, { ...ENV, EVENT_MAX_DATA_BYTES: '64' })
  const bob = await bystanderOf(t, gw)
  const jwt = serviceToken()
  const fits = { s: 'x'.repeat(56) } // {"s":"…"} is 8 bytes of JSON around the string
  const over = { s: 'x'.repeat(57) }
  const wide = { s: 'é'.repeat(29) } // 37 characters of JSON, 66 bytes: the bound is in bytes
  t.equal(Buffer.byteLength(JSON.stringify(fits)), 64)
  t.equal((await post(`${gw.url}/events`, { type: 'a.b', userId: 'bob', data: fits }, jwt)).status, 202, 'at the bound')
  t.same((await bob.events(1))[0]?.data, fits)

  const cases: Array<[string, string, unknown, string]> = [
    ['one event', '/events', { type: 'a.b', userId: 'bob', data: over }, 'data'],
    ['multi-byte characters', '/events', { type: 'a.b', userId: 'bob', data: wide }, 'data'],
    ['the fourth event of a batch', '/events', { events: [{ n: 0 }, { n: 1 }, { n: 2 }, over].map((data) => ({ type: 'a.b', userId: 'bob', data })) }, 'events.3.data'],
    ['a notification', '/notifications', { userId: 'bob', level: 'info', title: 't', message: 'm', data: over }, 'data']
  ]
  for (const [name, route, body, field] of cases) {
    const res = await post(`${gw.url}${route}`, body, jwt)
    t.equal(res.status, 400, name)
    t.match(res.body, { code: 'EVENTGATE_INVALID_BODY', field, message: new RegExp(`^${field.replace(/\./g, '\\.')} must be at most 64 bytes`) }, name)
  }
  // Had any refused event been published, bob would see it before this one.
  await assertIntact(t, gw, bob, 'oversized data')
})

/** `{"type":"ping","id":…,"pad":"xx…"}` of exactly `bytes` bytes. */
function paddedPing (id: string, bytes: number): string {
  const empty = JSON.stringify({ type: 'ping', id, pad: '' })
  return JSON.stringify({ type: 'ping', id, pad: 'x'.repeat(bytes - empty.length) })
}

/** The status of a POST whose headers may be refused before any body is read. */
async function rawStatus (url: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' })
  await response.arrayBuffer()
  return response.status
}
