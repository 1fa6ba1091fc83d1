import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { compareIds } from '../../src/wire/event-id.js'
import { connectAs, type EventPayload, type Frame, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'

type Input = Record<string, unknown>

async function publish (gw: Gateway, events: Input[], bearer = serviceToken(), headers: Record<string, string> = {}): Promise<string[]> {
  const res = await post(`${gw.url}/events`, { events }, bearer, headers)
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.ids as string[]
}

/**
 * Publishes one event at a time, without pause, through each gateway given, until stopped:
 * the traffic a resume must join without a gap or a duplicate. `ids` are what the 202s said.
 */
function keepPublishing (t: Test, gateways: Gateway[], input: (n: number) => Input): { ids: string[], stop: () => Promise<void> } {
  const ids: string[] = []
  let running = true
  let n = 0
  const loops = gateways.map(async (gw) => {
    while (running) ids.push(...await publish(gw, [input(n++)]))
  })
  const stop = async (): Promise<void> => {
    running = false
    await Promise.all(loops)
  }
  t.teardown(stop)
  return { ids, stop }
}

/** The last event a client saw before it went away: publishes one and waits for it. */
async function lastSeen (t: Test, gw: Gateway, bearer: string, pattern: string, input: Input, stream = '/ws/events'): Promise<string> {
  const client = await connectAs(t, `${gw.wsUrl}${stream}`, bearer)
  await client.subscribe(pattern)
  const [id] = await publish(gw, [input])
  const [event] = await client.events(1)
  if (id === undefined || event?.id !== id) throw new Error(`expected ${String(id)}, got ${JSON.stringify(event)}`)
  client.close()
  await client.closed
  return id
}

/** Sends `subscribe` with `since`; the reply must be the first frame, before any replayed event. */
async function resume (client: TestClient, eventTypes: string[], since: unknown): Promise<Frame> {
  client.send({ type: 'subscribe', id: 'resume', payload: { eventTypes, since } })
  const reply = await client.next()
  if (reply.id !== 'resume') throw new Error(`expected the reply first, got ${JSON.stringify(reply)}`)
  return reply
}

/**
 * Publishes a marker for `userId` and returns the event frames that came before it: once the
 * marker is in, anything still owed (a duplicate, a straggler) would have come first.
 */
async function beforeMarker (client: TestClient, gw: Gateway, userId: string): Promise<EventPayload[]> {
  const [marker] = await publish(gw, [{ type: 'order.marker', userId }])
  const seen: EventPayload[] = []
  for (;;) {
    const [event] = await client.events(1)
    if (event?.id === marker) return seen
    if (event !== undefined) seen.push(event)
  }
}

const ids = (events: EventPayload[]): string[] => events.map((e) => e.id)
const increasing = (list: readonly string[]): boolean => list.every((id, i) => i === 0 || compareIds(list[i - 1] as string, id) < 0)

/**
 * Alice goes away after `since`; 50 events for her are published, then a publisher loop runs
 * while she comes back on `resumeOn` and resumes. She must get exactly every event after `since`,
 * in id order: the replay, then live ones, nothing twice across the seam.
 */
async function resumeAcrossTheSeam (t: Test, publishOn: Gateway[], resumeOn: Gateway): Promise<void> {
  const [first] = publishOn as [Gateway]
  const since = await lastSeen(t, first, userToken('alice'), 'order.*', { type: 'order.created', userId: 'alice', data: { n: -1 } })
  const missed: string[] = []
  for (let n = 0; n < 50; n += 10) {
    const batch = Array.from({ length: 10 }, (_, k) => ({ type: 'order.created', userId: 'alice', data: { n: n + k } }))
    missed.push(...await publish(publishOn[(n / 10) % publishOn.length] as Gateway, batch))
  }
  // Bob's events and broadcasts of another type share the bus; they are not hers to replay.
  await publish(first, [{ type: 'order.created', userId: 'bob' }, { type: 'system.notice' }])

  const loop = keepPublishing(t, publishOn, (n) => ({ type: 'order.updated', userId: 'alice', data: { live: n } }))
  await until(() => loop.ids.length >= 10, 5000, 'the publisher loop to run')
  const alice = await connectAs(t, `${resumeOn.wsUrl}/ws/events`, userToken('alice'))
  const reply = await resume(alice, ['order.*'], since)
  const atReply = loop.ids.length
  await until(() => loop.ids.length >= atReply + 30, 5000, 'live events after the resume')
  await loop.stop()

  const expected = [...missed, ...loop.ids].sort(compareIds)
  t.match(reply.payload, { eventTypes: ['order.*'], truncated: false })
  const replayed = reply.payload.replayed as number
  t.ok(replayed >= 50 + 10 && replayed <= expected.length, `the missed events and the loop's first were replayed (${replayed})`)
  const received = await alice.events(expected.length, 10_000)
  t.same(received.slice(0, 50).map((e) => e.data.n), Array.from({ length: 50 }, (_, n) => n), 'the 50 missed events first, whole and in order')
  t.ok(increasing(ids(received)), 'ids strictly increase across the seam')
  t.same(ids(received), expected, 'every event after since, each once')
  t.same(await beforeMarker(alice, first, 'alice'), [], 'and nothing more, no late duplicate')
}

t.test('embedded: a reconnecting subscriber gets what it missed, then live events, nothing twice at the seam', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  await resumeAcrossTheSeam(t, [gw], gw)
})

t.test('two instances: disconnect from A, resume on B while both publish', async (t) => {
  const { a, b } = await startPair(t)
  await resumeAcrossTheSeam(t, [a, b], b)
})

t.test('the replay keeps to what the stream may see: not other users\' events, not admin-only ones', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const since = await lastSeen(t, gw, userToken('alice'), '*', { type: 'account.seen', userId: 'alice' })
  const [mine, broadcast, bobs, banned, bannedAlice, theirs] = await publish(gw, [
    { type: 'account.updated', userId: 'alice' },
    { type: 'system.notice' },
    { type: 'account.updated', userId: 'bob' },
    { type: 'admin.user.banned', data: { userId: 'mallory' } },
    { type: 'admin.user.banned', userId: 'alice' },
    { type: 'account.deleted', userId: 'bob' }
  ])
  // Revoking a session without naming its user makes an admin-only session.revoked event.
  const revoked = await post(`${gw.url}/sessions/s-unknown/revoke`, null, adminToken())
  t.equal(revoked.status, 202)
  const [afterRevoke] = await publish(gw, [{ type: 'account.updated', userId: 'alice', data: { last: true } }])

  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const reply = await resume(alice, ['*'], since)
  t.match(reply.payload, { eventTypes: ['*'], replayed: 3, truncated: false })
  t.same(ids(await alice.events(3)), [mine, broadcast, afterRevoke])
  t.same(await beforeMarker(alice, gw, 'alice'), [], 'nothing else of the history')

  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken())
  const adminReply = await resume(admin, ['*'], since)
  t.match(adminReply.payload, { eventTypes: ['*'], truncated: false })
  const replayed = await admin.events(adminReply.payload.replayed as number)
  const all = ids(replayed)
  t.ok(increasing(all), 'in id order')
  for (const [name, id] of Object.entries({ mine, broadcast, bobs, banned, bannedAlice, theirs, afterRevoke })) {
    t.ok(all.includes(id as string), `the admin replay has ${name}`)
  }
  t.ok(replayed.some((e) => e.type === 'session.revoked' && e.audience === 'admin'), 'and the admin-only revocation')
  t.notOk(replayed.some((e) => e.type.startsWith('security.')), 'but none of the gateway\'s security events: they are live-only')
  const history = await gw.app.bus.history.after(since, 10_000)
  const upTo = history.messages.map((m) => m.event.id).filter((id) => compareIds(id, all.at(-1) as string) <= 0)
  t.same(all, upTo, 'the whole history after since, up to the reply')
})

t.test('truncated when the history was trimmed past since, or cannot place it', async (t) => {
  // One security event per type, ever: the history then holds the events this test counts.
  const gw = await startGateway(t, { ...LENIENT_LIMITS, HISTORY_MAX_EVENTS: '5', SECURITY_EVENTS_PER_SECOND: '0.001' })
  const since = await lastSeen(t, gw, userToken('alice'), 'order.*', { type: 'order.created', userId: 'alice' })
  const published = await publish(gw, Array.from({ length: 10 }, (_, n) => ({ type: 'order.created', userId: 'alice', data: { n } })))
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const reply = await resume(alice, ['order.*'], since)
  t.match(reply.payload, { eventTypes: ['order.*'], replayed: 5, truncated: true }, 'trimmed by HISTORY_MAX_EVENTS')
  t.same(ids(await alice.events(5)), published.slice(5), 'what is left is still replayed')

  const newer = `${Number(published[9]?.split('-')[0]) + 3_600_000}-0`
  const late = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.match((await resume(late, ['order.*'], newer)).payload, { eventTypes: ['order.*'], replayed: 0, truncated: true }, 'since newer than the history')
  const [live] = await publish(gw, [{ type: 'order.shipped', userId: 'alice' }])
  t.same(ids(await late.events(1)), [live], 'and live events follow')
})

t.test('truncated after a restart of the embedded gateway lost its history, even once new events came', async (t) => {
  const first = await startGateway(t, LENIENT_LIMITS)
  const since = await lastSeen(t, first, userToken('alice'), 'order.*', { type: 'order.created', userId: 'alice' })
  await first.close()
  const second = await startGateway(t, LENIENT_LIMITS)
  const [fresh] = await publish(second, [{ type: 'order.created', userId: 'alice', data: { after: 'restart' } }])
  t.ok(compareIds(since, fresh as string) < 0, 'the new history is newer than since')
  const alice = await connectAs(t, `${second.wsUrl}/ws/events`, userToken('alice'))
  t.match((await resume(alice, ['order.*'], since)).payload, { eventTypes: ['order.*'], replayed: 1, truncated: true })
  t.same(ids(await alice.events(1)), [fresh], 'what the new history holds is replayed')
})

t.test('an invalid since is INVALID_MESSAGE and subscribes nothing', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  for (const since of ['yesterday', '1732380000000', '1-2-3', 17, null, { id: '1-0' }]) {
    const reply = await alice.request('subscribe', { eventTypes: ['order.*'], since })
    t.match(reply, { type: 'error', payload: { code: 'INVALID_MESSAGE', message: /since/ } }, JSON.stringify(since))
  }
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: [] })
  t.match(await alice.subscribe('order.*'), { type: 'subscribed' }, 'the connection carries on')
})

t.test('publishing is idempotent per publisher: Idempotency-Key, per-event idempotencyKey', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('order.*')
  const batch = [{ type: 'order.created', userId: 'alice', data: { n: 1 } }, { type: 'order.created', userId: 'alice', data: { n: 2 } }]
  const first = await publish(gw, batch, serviceToken('billing'), { 'idempotency-key': 'order-42' })
  t.equal(first.length, 2)
  t.same(await publish(gw, batch, serviceToken('billing'), { 'idempotency-key': 'order-42' }), first, 'a retry gets the same ids')
  t.same(ids(await alice.events(2)), first)
  t.same(await beforeMarker(alice, gw, 'alice'), [], 'the retry delivered nothing')

  const other = await publish(gw, batch, serviceToken('shipping'), { 'idempotency-key': 'order-42' })
  t.ok(compareIds(first[1] as string, other[0] as string) < 0, 'another publisher\'s key of the same name publishes')
  t.same(ids(await alice.events(2)), other)

  const keyed = (key: string, n: number): Input => ({ type: 'order.line', userId: 'alice', idempotencyKey: key, data: { n } })
  const lines = await publish(gw, [keyed('line-1', 1), keyed('line-2', 2)], serviceToken('billing'))
  const retried = await publish(gw, [keyed('line-2', 2), keyed('line-3', 3)], serviceToken('billing'))
  t.equal(retried[0], lines[1], 'a known event keeps its id')
  const received = await beforeMarker(alice, gw, 'alice')
  t.same(ids(received), [...lines, retried[1]], 'each line once')
  t.same(received.map((e) => e.data.n), [1, 2, 3])
  t.notOk(received.some((e) => 'idempotencyKey' in e), 'the key is not part of the event')

  const all = [...first, ...other, ...lines, retried[1] as string]
  t.ok(increasing(all), 'ids in 202s increase from one publish to the next')
  const bad = await post(`${gw.url}/events`, { events: batch }, serviceToken('billing'), { 'idempotency-key': 'has space' })
  t.equal(bad.status, 400, 'a key must be visible ASCII')
})

t.test('Redis: an Idempotency-Key holds across instances', async (t) => {
  const { a, b } = await startPair(t)
  const alice = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('order.*')
  const input = [{ type: 'order.created', userId: 'alice' }]
  const publisher = token({ sub: 'billing', roles: ['service'] })
  const onA = await publish(a, input, publisher, { 'idempotency-key': 'cross-1' })
  t.same(await publish(b, input, publisher, { 'idempotency-key': 'cross-1' }), onA)
  t.same(ids(await beforeMarker(alice, a, 'alice')), onA, 'delivered once')
})

t.test('Redis: a resume after Redis lost its data is truncated; while Redis is down it is HISTORY_UNAVAILABLE', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url })
  await until(() => gw.app.bus.connected, 10_000, 'the bus to reach Redis')
  const since = await lastSeen(t, gw, userToken('alice'), 'order.*', { type: 'order.created', userId: 'alice' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))

  await redis.stop()
  await until(() => !gw.app.bus.connected, 5000, 'the gateway to notice')
  t.match(await alice.request('subscribe', { eventTypes: ['order.*'], since }), { type: 'error', payload: { code: 'HISTORY_UNAVAILABLE' } })
  t.same((await alice.request('get_subscriptions')).payload, { eventTypes: [] }, 'nothing was subscribed')

  await redis.start()
  await until(() => gw.app.bus.connected, 10_000, 'the bus to reconnect')
  const [fresh] = await publish(gw, [{ type: 'order.created', userId: 'alice', data: { after: 'restart' } }])
  const reply = await alice.request('subscribe', { eventTypes: ['order.*'], since })
  t.match(reply.payload, { eventTypes: ['order.*'], replayed: 1, truncated: true }, 'the events between since and the restart are lost')
  t.same(ids(await alice.events(1)), [fresh])
})

t.test('a replay obeys the outbound bound: a client that does not read is closed 4009 at the last event it was sent', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, WEBSOCKET_MAX_BUFFERED_BYTES: String(64 * 1024) })
  // More than the kernel's socket buffers hold, so the replay must queue in the gateway.
  const blob = 'x'.repeat(20_000)
  const published: string[] = []
  for (let batch = 0; batch < 20; batch++) {
    published.push(...await publish(gw, Array.from({ length: 50 }, (_, n) => ({ type: 'replay.big', data: { blob, n } }))))
  }
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('reader'))
  // Stops reading its TCP socket: what the gateway sends piles up in the kernel, then in the gateway.
  const raw = (client.socket as unknown as { _socket: Socket })._socket
  raw.pause()
  client.send({ type: 'subscribe', id: 'r', payload: { eventTypes: ['replay.*'], since: '0-0' } })
  await until(() => [...gw.app.hub.each()].every((c) => !c.open), 10_000, 'the gateway to cut the reader off')
  raw.resume()
  const { code, reason } = await client.closed
  const received = client.frames.filter((f) => f.type === 'event').map((f) => (f.payload as unknown as EventPayload).id)
  t.equal(code, 4009)
  t.ok(received.length > 0 && received.length < published.length, `cut off after ${received.length} of ${published.length}`)
  t.same(received, published.slice(0, received.length), 'what it got is the start of the history, in order')
  t.equal(reason, `slow_consumer:${received.at(-1) ?? ''}`, 'the close names the last event sent, to resume from')
})

for (const backend of ['embedded', 'Redis']) {
  t.test(`${backend}: a client that has received no event resumes from the position its subscribe reply gave`, async (t) => {
    const env: Record<string, string> = backend === 'Redis' ? { REDIS_URL: (await RedisServer.start(t)).url } : {}
    const gw = await startGateway(t, { ...LENIENT_LIMITS, ...env })
    const [before] = await publish(gw, [{ type: 'quiet.before', userId: 'alice' }])
    const first = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
    await until(() => compareIds(gw.app.bus.positionOf('p0') ?? '0-0', before as string) >= 0, 5000, 'the bus to hand on the event before')
    const { payload } = await first.subscribe('quiet.*')
    t.ok(typeof payload.position === 'string' && compareIds(payload.position, before as string) >= 0, 'at or past the newest event handed on before the subscription')
    first.close()
    await first.closed
    const missed = await publish(gw, [{ type: 'quiet.missed', userId: 'alice' }, { type: 'quiet.missed', userId: 'alice' }])
    const again = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
    const reply = await again.request('subscribe', { eventTypes: ['quiet.*'], since: payload.position })
    t.match(reply.payload, { replayed: 2, truncated: false })
    t.same((await again.events(2)).map((e) => e.id), missed, 'what was published while it was away, nothing before')
  })
}
