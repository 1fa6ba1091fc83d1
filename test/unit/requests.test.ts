import t from 'tap'
import { until } from '../../harness/ports.js'
import type { BusMessage } from '../../src/bus/bus.js'
import { Connection } from '../../src/connection.js'
import { createDraft, type EventInput, eventJson } from '../../src/events.js'
import { type History, type HistoryPage, type Retention, RingHistory } from '../../src/history.js'
import { Hub } from '../../src/hub.js'
import { Partitioning } from '../../src/partitions.js'
import { isFault } from '../../src/protocol.js'
import { ReplayGate } from '../../src/replay-gate.js'
import { isReauthenticate, type Reply, requestHandlers, type RequestContext } from '../../src/requests.js'
import { IdClock } from '../../src/wire/event-id.js'
import type { Stream } from '../../src/wire/streams.js'
import { embeddedRooms } from '../helpers/rooms.js'
import { quietLog, RecordingSocket } from '../helpers/recording-socket.js'

const log = quietLog
const RETENTION: Retention = { maxEvents: 100, maxAgeMs: 3_600_000 }

interface Options { stream?: Stream, maxSubscriptions?: number, history?: History, maxReplay?: number }

function setup ({ stream = 'events', maxSubscriptions = 3, history = new RingHistory(RETENTION), maxReplay = 100 }: Options = {}) {
  const replays = new ReplayGate({ perInstance: 8, perUser: 2 })
  const hub = new Hub()
  const ctx: RequestContext = { hub, ...embeddedRooms(hub), history, maxReplay, maxReplayBytes: 1024 * 1024, maxDataBytes: 32 * 1024, replays, maxSubscriptions, maxPatternLength: 128, reads: { partitioning: new Partitioning(1), positionOf: () => '1-0', read: async () => {}, unread: () => {}, connected: true } }
  const identity = { userId: 'alice', sessionId: undefined, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }
  const socket = new RecordingSocket()
  const connection = new Connection('c1', socket, identity, stream, log)
  connection.reads = ['p0']
  ctx.hub.add(connection)
  const call = (type: string, payload: Record<string, unknown> = {}) => {
    const handler = requestHandlers[type]
    if (handler === undefined) throw new Error(`no handler for ${type}`)
    return handler(ctx, connection, payload)
  }
  /** The events written to the socket, by id. */
  const received = (): string[] => socket.sent.map((f) => JSON.parse(f.toString()) as { type: string, payload: { id: string } }).filter((f) => f.type === 'event').map((f) => f.payload.id)
  return { ctx, connection, socket, call, received }
}

const clock = new IdClock()

/** What the bus hands on: an event with its id, and its JSON text. */
function message (input: EventInput): BusMessage {
  const draft = createDraft(input)
  const id = clock.next()
  return { event: { id, ...draft }, json: eventJson(id, JSON.stringify(draft)) }
}

/** A history whose reads wait until `open()`, so a test can act while a resume reads. */
class GatedHistory implements History {
  private opened!: () => void
  private readonly gate = new Promise<void>((resolve) => { this.opened = resolve })
  reads = 0

  constructor (private readonly inner: History) {}

  open (): void { this.opened() }

  async after (since: string, limit: number): Promise<HistoryPage> {
    this.reads++
    await this.gate
    return await this.inner.after(since, limit)
  }
}

/** A resume's reply, or the test fails. */
async function resumed (result: unknown): Promise<Reply> {
  const reply = await result
  if (isFault(reply) || typeof reply !== 'object' || reply === null) throw new Error(`expected a reply, got ${JSON.stringify(reply)}`)
  return reply as Reply
}

t.test('subscribe, get_subscriptions, unsubscribe', async (t) => {
  const { ctx, connection, call } = setup()
  t.same(call('subscribe', { eventTypes: ['a.*', 'b.c', 'a.*'] }), { type: 'subscribed', payload: { eventTypes: ['a.*', 'b.c'], position: '1-0' } }, 'duplicates collapse, and the reply says the bus position')
  t.same([...connection.patterns], ['a.*', 'b.c'])
  t.equal(ctx.hub.stats().subscriptions, 2, 'the hub indexes them')
  t.same(call('get_subscriptions'), { type: 'subscriptions', payload: { eventTypes: ['a.*', 'b.c'] } })
  t.same(call('unsubscribe', { eventTypes: ['a.*', 'x.y'] }), { type: 'unsubscribed', payload: { eventTypes: ['a.*', 'x.y'] } })
  t.same([...connection.patterns], ['b.c'])
})

t.test('invalid eventTypes give INVALID_MESSAGE or INVALID_PATTERN', async (t) => {
  const { connection, call } = setup()
  const cases: Array<[unknown, string, RegExp]> = [
    [undefined, 'INVALID_MESSAGE', /non-empty array/],
    ['a.*', 'INVALID_MESSAGE', /non-empty array/],
    [[], 'INVALID_MESSAGE', /non-empty array/],
    [['a.*', 'A.B'], 'INVALID_PATTERN', /^"A\.B": .*lower-case/],
    [[42], 'INVALID_PATTERN', /^"42": a pattern must be a string/],
    [[{ p: 1 }], 'INVALID_PATTERN', /^"\{\\"p\\":1\}"/]
  ]
  for (const type of ['subscribe', 'unsubscribe']) {
    for (const [eventTypes, code, message] of cases) {
      t.match(call(type, { eventTypes }), { code, message }, `${type} ${JSON.stringify(eventTypes)}`)
    }
  }
  t.equal(connection.patterns.size, 0, 'a refused request changes nothing, not even its valid patterns')
})

t.test('a hostile pattern is quoted back truncated', async (t) => {
  const { call } = setup()
  const result = call('subscribe', { eventTypes: ['X'.repeat(10_000)] })
  t.ok(isFault(result))
  t.ok(isFault(result) && result.message.startsWith(`"${'X'.repeat(64)}…"`))
  t.ok(isFault(result) && result.message.length < 200)
})

t.test('a user stream may not subscribe to the admin namespace', async (t) => {
  const { connection, call } = setup()
  for (const pattern of ['admin.*', 'admin', 'admin.user.banned']) {
    t.match(call('subscribe', { eventTypes: ['a.*', pattern] }), { code: 'FORBIDDEN', message: /only delivered on \/ws\/admin/ }, pattern)
  }
  t.equal(connection.patterns.size, 0)
  t.match(call('subscribe', { eventTypes: ['*', 'administrator.*'] }), { type: 'subscribed' }, '* and look-alike namespaces are fine')
  const admin = setup({ stream: 'admin' })
  t.match(admin.call('subscribe', { eventTypes: ['admin.*'] }), { type: 'subscribed' }, 'an admin stream may')
})

t.test('the subscription limit counts only new patterns', async (t) => {
  const { connection, call } = setup({ maxSubscriptions: 3 })
  t.match(call('subscribe', { eventTypes: ['a.*', 'b.*'] }), { type: 'subscribed' })
  t.match(call('subscribe', { eventTypes: ['a.*', 'b.*', 'c.*'] }), { type: 'subscribed' }, 'exactly at the limit')
  t.match(call('subscribe', { eventTypes: ['a.*', 'd.*'] }), { code: 'TOO_MANY_SUBSCRIPTIONS', message: /at most 3/ })
  t.same([...connection.patterns], ['a.*', 'b.*', 'c.*'])
  t.match(call('subscribe', { eventTypes: ['c.*'] }), { type: 'subscribed' }, 're-subscribing at the limit is fine')
})

t.test('a list longer than WEBSOCKET_MAX_SUBSCRIPTIONS is refused on its length, before any pattern is read', async (t) => {
  const { connection, call } = setup({ maxSubscriptions: 3 })
  // The invalid pattern last: read one by one, it would be the answer.
  const long = ['a.*', 'b.*', 'c.*', 'not..valid']
  t.match(call('subscribe', { eventTypes: long }), { code: 'TOO_MANY_SUBSCRIPTIONS', message: /at most 3 patterns/ })
  t.match(call('unsubscribe', { eventTypes: long }), { code: 'TOO_MANY_SUBSCRIPTIONS' }, 'unsubscribe reads no more')
  t.match(call('subscribe', { eventTypes: ['a.*', 'a.*', 'a.*', 'a.*'] }), { code: 'TOO_MANY_SUBSCRIPTIONS' }, 'duplicates count')
  t.equal(connection.patterns.size, 0)
})

t.test('ping answers pong with the server time', async (t) => {
  const { call } = setup()
  const reply = call('ping')
  t.match(reply, { type: 'pong', payload: { serverTime: /^\d{4}-\d\d-\d\dT/ } })
})

t.test('heartbeat answers heartbeat_response with the server time, as ping does', async (t) => {
  const { call } = setup()
  t.match(call('heartbeat'), { type: 'heartbeat_response', payload: { serverTime: /^\d{4}-\d\d-\d\dT/ } })
})

t.test('both names of the token swap are left to the session', async (t) => {
  t.ok(isReauthenticate('reauthenticate'))
  t.ok(isReauthenticate('re-authenticate'))
  t.notOk(isReauthenticate('reAuthenticate'))
  t.notOk(Object.hasOwn(requestHandlers, 're-authenticate'))
})

t.test('subscribe with a since that is not an event id is INVALID_MESSAGE and subscribes nothing', async (t) => {
  const { connection, call } = setup()
  const bad: unknown[] = ['', 'abc', '1732380000000', '1732380000000-', '-1', '1-2-3', ' 1-0', '1-0 ', '1.5-0', '12345678901234567-0', 42, null, {}, ['1-0']]
  for (const since of bad) {
    t.match(await call('subscribe', { eventTypes: ['a.*'], since }), { code: 'INVALID_MESSAGE', message: /since must be a position/ }, JSON.stringify(since))
  }
  t.equal(connection.patterns.size, 0)
  t.equal(connection.held, undefined, 'no frames held back')
})

t.test('subscribe with since replays the retained events that match and that the stream may see, oldest first', async (t) => {
  const history = new RingHistory(RETENTION)
  const { connection, socket, call, received } = setup({ history })
  const seen = message({ type: 'a.seen' })
  const later = [
    message({ type: 'a.broadcast' }),
    message({ type: 'a.mine', userId: 'alice' }),
    message({ type: 'a.theirs', userId: 'bob' }),
    message({ type: 'b.other' }),
    message({ type: 'a.audit', audience: 'admin' }),
    message({ type: 'admin.user.banned', userId: 'alice' }),
    message({ type: 'a.last', userId: 'alice' })
  ]
  for (const m of [seen, ...later]) history.append(m)
  const reply = await resumed(call('subscribe', { eventTypes: ['a.*', 'a.*'], since: seen.event.id }))
  t.same({ type: reply.type, payload: reply.payload }, { type: 'subscribed', payload: { eventTypes: ['a.*'], replayed: 3, truncated: false, position: '1-0' } })
  t.same([...connection.patterns], ['a.*'], 'subscribed at once')
  t.same(socket.sent, [], 'nothing is sent before the reply')
  reply.after?.()
  t.same(received(), [later[0], later[1], later[6]].map((m) => m?.event.id))
  t.equal(socket.sent[0]?.toString(), `{"type":"event","payload":${later[0]?.json ?? ''}}`, 'the frame carries the history\'s JSON text')
  t.equal(connection.held, undefined, 'live frames flow again')
})

t.test('a resume does not replay what matches a pattern the connection already held', async (t) => {
  const history = new RingHistory(RETENTION)
  const { call, received } = setup({ history })
  t.match(call('subscribe', { eventTypes: ['a.*'] }), { type: 'subscribed' })
  const seen = message({ type: 'x.seen' })
  const [a, b, ab] = [message({ type: 'a.one' }), message({ type: 'b.one' }), message({ type: 'a.b' })]
  for (const m of [seen, a, b, ab]) history.append(m)
  const reply = await resumed(call('subscribe', { eventTypes: ['a.*', 'b.*', '*'], since: seen.event.id }))
  t.match(reply.payload, { replayed: 1, truncated: false })
  reply.after?.()
  t.same(received(), [b.event.id], 'a.* events were delivered live before the request')
})

t.test('live events that arrive while a resume reads are held, sent after the replay, and never twice', async (t) => {
  const ring = new RingHistory(RETENTION)
  const history = new GatedHistory(ring)
  const { ctx, connection, socket, call, received } = setup({ history })
  t.match(call('subscribe', { eventTypes: ['b.*'] }), { type: 'subscribed' })
  const seen = message({ type: 'a.seen' })
  const missed = message({ type: 'a.missed' })
  for (const m of [seen, missed]) ring.append(m)
  const pending = call('subscribe', { eventTypes: ['a.*'], since: seen.event.id })
  await t.resolves(until(() => history.reads === 1), 'the resume is reading')
  // Published while the resume reads: in the history it reads and live as well.
  const during = [message({ type: 'a.during' }), message({ type: 'b.during' }), message({ type: 'c.unrelated' })]
  for (const m of during) {
    ring.append(m)
    ctx.hub.deliver(m)
  }
  t.same(socket.sent, [], 'live events wait behind the replay')
  t.same(connection.held?.map((h) => h.id), [during[0]?.event.id, during[1]?.event.id], 'the matching ones are held')
  history.open()
  const reply = await resumed(pending)
  t.match(reply.payload, { replayed: 2, truncated: false })
  reply.after?.()
  t.same(received(), [missed.event.id, during[0]?.event.id, during[1]?.event.id], 'replay, then the held event not replayed; a.during once')
  const next = message({ type: 'a.next' })
  ctx.hub.deliver(next)
  t.same(received().at(-1), next.event.id, 'then live again')
})

t.test('truncated when the history no longer holds everything after since', async (t) => {
  const history = new RingHistory({ maxEvents: 3, maxAgeMs: 3_600_000 })
  const first = setup({ history })
  const all = Array.from({ length: 5 }, (_, n) => message({ type: 'a.n', data: { n } }))
  for (const m of all) history.append(m)
  const trimmed = await resumed(first.call('subscribe', { eventTypes: ['a.*'], since: all[0]?.event.id }))
  t.match(trimmed.payload, { replayed: 3, truncated: true }, 'trimmed by count past since')
  trimmed.after?.()
  t.same(first.received(), all.slice(2).map((m) => m.event.id), 'what is left is still replayed')

  const newer = setup({ history })
  const unknown = await resumed(newer.call('subscribe', { eventTypes: ['a.*'], since: '99999999999999-0' }))
  t.match(unknown.payload, { replayed: 0, truncated: true }, 'since newer than the history: it was lost')

  const capped = setup({ history: new RingHistory(RETENTION), maxReplay: 2 })
  const ring = capped.ctx.history as RingHistory
  for (const m of all) ring.append(m)
  const over = await resumed(capped.call('subscribe', { eventTypes: ['a.*'], since: all[0]?.event.id }))
  t.match(over.payload, { replayed: 2, truncated: true }, 'more to replay than a resume may send')
})

t.test('HISTORY_UNAVAILABLE when the history cannot be read: the new patterns are dropped, held frames released', async (t) => {
  const ring = new RingHistory(RETENTION)
  let fail: ((err: Error) => void) | undefined
  const failing: History = { after: async () => await new Promise<never>((_resolve, reject) => { fail = reject }) }
  const { ctx, connection, call, received } = setup({ history: failing })
  t.match(call('subscribe', { eventTypes: ['x.*'] }), { type: 'subscribed' })
  const pending = call('subscribe', { eventTypes: ['x.*', 'y.*'], since: clock.next() })
  await t.resolves(until(() => fail !== undefined), 'the resume is reading')
  const live = message({ type: 'x.live' })
  ring.append(live)
  ctx.hub.deliver(live)
  t.same(received(), [], 'held while the read is pending')
  fail?.(new Error('redis down'))
  t.match(await pending, { code: 'HISTORY_UNAVAILABLE', message: /history is unreachable/ })
  t.same([...connection.patterns], ['x.*'], 'the pattern held before stays, the new one is gone')
  t.same(received(), [live.event.id], 'the held live event is sent')
  t.equal(connection.held, undefined)
})
