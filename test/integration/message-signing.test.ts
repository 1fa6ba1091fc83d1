import t from 'tap'
import { WebSocket } from 'ws'
import { userToken } from '../../harness/tokens.js'
import { createClient, type GatewayEvent } from '../../src/client/index.js'
import { canonicalForm, newNonce, SIGNATURE_SKEW_MS, WebSigner } from '../../src/wire/signing.js'
import { type Frame, connectAs, TestClient } from '../helpers/client.js'
import { publish, record } from '../helpers/client-support.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { startGateway } from '../helpers/gateway.js'
import { scrape } from '../helpers/metrics.js'
import { until } from '../../harness/ports.js'
import { within } from '../helpers/within.js'

const SECRET = 'a-signing-secret-shared-by-services-0123'
const SIGNED = { ...LENIENT_LIMITS, MESSAGE_SIGNING_SECRET: SECRET }
const FAST = { baseMs: 20, capMs: 200 }
const signer = new WebSigner(SECRET)

type Signed = Frame & { timestamp: number, nonce: string, signature: string }

/** A request frame signed as the SDK signs one; `timestamp` and `nonce` may be forced. */
async function signed (type: string, id: string, payload: Record<string, unknown>, timestamp = Date.now(), nonce = newNonce()): Promise<Signed> {
  const signature = await signer.sign(canonicalForm(type, id, timestamp, nonce, JSON.stringify(payload)))
  return { type, id, payload, timestamp, nonce, signature }
}

async function holds (frame: Frame): Promise<boolean> {
  const { timestamp, nonce, signature } = frame as Signed
  return await signer.verify(canonicalForm(frame.type, frame.id, timestamp, nonce, JSON.stringify(frame.payload)), signature)
}

async function reply (client: TestClient, frame: Signed | Frame): Promise<Frame> {
  client.send(frame)
  return await client.next((f) => f.id === frame.id)
}

t.test('the SDK with the secret: signed requests, verified replies and events, in order, no error', async (t) => {
  const gw = await startGateway(t, SIGNED)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), WebSocket, reconnect: FAST, signingSecret: SECRET })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const events: GatewayEvent[] = []
  await client.subscribe('orders.*', (e) => { events.push(e) })
  const ids = await publish(gw.url, [{ type: 'orders.created', userId: 'alice', data: { n: 1, note: 'é\u2028' } }, { type: 'orders.shipped' }])
  await until(() => events.length === 2, 5000, 'both events')
  t.same(events.map((e) => e.id), ids)
  t.same(seen.errors, [])
  t.same(seen.states, ['open'])
})

t.test('every frame the gateway sends is signed: connected, replies, errors and events', async (t) => {
  const gw = await startGateway(t, SIGNED)
  const client = new TestClient(new WebSocket(`${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } }))
  t.teardown(() => { client.socket.terminate() })
  const connected = await client.next('connected')
  t.ok(await holds(connected), 'connected')
  t.ok(await holds(await reply(client, await signed('subscribe', 'r1', { eventTypes: ['orders.*'] }))), 'subscribed')
  t.ok(await holds(await reply(client, await signed('nope', 'r2', {}))), 'an UNKNOWN_TYPE error')
  await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }])
  const event = await client.next('event')
  t.ok(await holds(event), 'event')
  t.not((event as Signed).nonce, (connected as Signed).nonce)
})

t.test('unsigned, tampered, replayed and stale frames are refused, and counted', async (t) => {
  const gw = await startGateway(t, SIGNED)
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.match((await reply(client, { type: 'subscribe', id: 'u1', payload: { eventTypes: ['a.*'] } })).payload, { code: 'INVALID_SIGNATURE' }, 'unsigned')
  const good = await signed('subscribe', 't1', { eventTypes: ['a.*'] })
  t.match((await reply(client, { ...good, payload: { eventTypes: ['#'] } })).payload, { code: 'INVALID_SIGNATURE' }, 'tampered')
  t.equal((await reply(client, good)).type, 'subscribed', 'the untampered frame passes: the tampered one claimed no nonce')
  t.match((await reply(client, good)).payload, { code: 'REPLAYED' }, 'replayed')
  const stale = await signed('ping', 's1', {}, Date.now() - SIGNATURE_SKEW_MS - 1000)
  t.match((await reply(client, stale)).payload, { code: 'REPLAYED' }, 'stale')
  t.equal((await reply(client, await signed('ping', 'p1', {}))).type, 'pong', 'the connection carries on')
  const { samples } = await scrape(gw.url)
  t.equal(samples.get('eventgate_signature_refusals_total{reason="unsigned"}'), 1)
  t.equal(samples.get('eventgate_signature_refusals_total{reason="bad_signature"}'), 1)
  t.equal(samples.get('eventgate_signature_refusals_total{reason="replayed"}'), 1)
  t.equal(samples.get('eventgate_signature_refusals_total{reason="stale"}'), 1)
})

t.test('a nonce used on one instance is refused on another: nonces live in the shared store', async (t) => {
  const { a, b } = await startPair(t, { MESSAGE_SIGNING_SECRET: SECRET })
  const onA = await connectAs(t, `${a.wsUrl}/ws/events`, userToken('alice'))
  const onB = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('alice'))
  const frame = await signed('ping', 'x1', {})
  t.equal((await reply(onA, frame)).type, 'pong')
  t.match((await reply(onB, frame)).payload, { code: 'REPLAYED' })
})

t.test('a socket opened without a token must sign its authenticate too', async (t) => {
  const gw = await startGateway(t, SIGNED)
  const client = new TestClient(new WebSocket(`${gw.wsUrl}/ws/events`))
  t.teardown(() => { client.socket.terminate() })
  await within(new Promise((resolve) => client.socket.once('open', resolve)), 5000, 'the socket to open')
  const token = userToken('alice')
  t.match((await reply(client, { type: 'authenticate', id: 'a1', payload: { token } })).payload, { code: 'INVALID_SIGNATURE' })
  client.send(await signed('authenticate', 'a2', { token }))
  t.ok(await holds(await client.next('connected')))
})

t.test('the SDK drops and reports a frame whose signature does not hold', async (t) => {
  const gw = await startGateway(t, SIGNED)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), WebSocket, reconnect: FAST, signingSecret: `${SECRET}-not-the-gateway's` })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  await until(() => seen.errors.length > 0, 5000, 'the error')
  t.match(seen.errors[0], { code: 'INVALID_SIGNATURE', message: /"connected"/ })
  t.equal(client.state, 'connecting', 'the dropped connected frame did not open the client')
})

t.test('without MESSAGE_SIGNING_SECRET nothing changes: frames carry no signature, unsigned requests pass', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = new TestClient(new WebSocket(`${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } }))
  t.teardown(() => { client.socket.terminate() })
  const connected = await client.next('connected')
  t.same(Object.keys(connected), ['type', 'payload'])
  const subscribed = await reply(client, { type: 'subscribe', id: 'r1', payload: { eventTypes: ['a.*'] } })
  t.same(Object.keys(subscribed), ['type', 'id', 'payload'])
  t.equal(subscribed.type, 'subscribed')
  t.equal((await scrape(gw.url)).samples.has('eventgate_signature_refusals_total{reason="unsigned"}'), false)
})
