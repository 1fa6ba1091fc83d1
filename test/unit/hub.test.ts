import t from 'tap'
import type { BusMessage } from '../../src/bus/bus.js'
import { Connection } from '../../src/connection.js'
import { createDraft, eventJson, type EventInput } from '../../src/events.js'
import { Hub } from '../../src/hub.js'
import { IdClock } from '../../src/wire/event-id.js'
import type { Stream } from '../../src/wire/streams.js'
import { quietLog, RecordingSocket } from '../helpers/recording-socket.js'

const log = quietLog

let ids = 0
function connect (hub: Hub, userId: string, patterns: string[], options: { stream?: Stream } = {}) {
  const socket = new RecordingSocket()
  const identity = { userId, sessionId: undefined, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }
  const connection = new Connection(`c${++ids}`, socket, identity, options.stream ?? 'events', log)
  hub.add(connection)
  hub.subscribe(connection, patterns)
  return { connection, socket, types: () => socket.sent.map((f) => JSON.parse(f.toString()).payload.type as string) }
}

const clock = new IdClock()

/** What the bus hands the hub: the event with its id, and its JSON text. */
function message (input: EventInput): BusMessage {
  const draft = createDraft(input)
  const id = clock.next()
  return { event: { id, ...draft }, json: eventJson(id, JSON.stringify(draft)) }
}

function publish (hub: Hub, input: EventInput): void {
  hub.deliver(message(input))
}

t.test('a user-addressed event reaches only that user\'s subscribed connections', async (t) => {
  const hub = new Hub()
  const alice1 = connect(hub, 'alice', ['authentication.*'])
  const alice2 = connect(hub, 'alice', ['*'])
  const aliceOther = connect(hub, 'alice', ['billing.*'])
  const bob = connect(hub, 'bob', ['*'])
  publish(hub, { type: 'authentication.login', userId: 'alice' })
  t.same(alice1.types(), ['authentication.login'])
  t.same(alice2.types(), ['authentication.login'])
  t.same(aliceOther.types(), [], 'alice\'s connection without a matching pattern')
  t.same(bob.types(), [], 'another user, even subscribed to *')
  publish(hub, { type: 'authentication.login', userId: 'carol' })
  t.same([alice1, alice2, aliceOther, bob].map((c) => c.socket.sent.length), [1, 1, 0, 0], 'an event for a user with no connection reaches nobody')
})

t.test('a broadcast reaches every subscribed user stream', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['system.*'])
  const bob = connect(hub, 'bob', ['system.maintenance'])
  const carol = connect(hub, 'carol', ['chat.*'])
  publish(hub, { type: 'system.maintenance', data: { at: 'noon' } })
  t.same(alice.types(), ['system.maintenance'])
  t.same(bob.types(), ['system.maintenance'])
  t.same(carol.types(), [])
  t.same(JSON.parse(alice.socket.sent[0]?.toString() ?? '').payload.data, { at: 'noon' })
})

t.test('the admin namespace never reaches user streams; the admin stream sees all', async (t) => {
  const hub = new Hub()
  const user = connect(hub, 'alice', ['*', 'admin.*'])
  const admin = connect(hub, 'root', ['*'], { stream: 'admin' })
  publish(hub, { type: 'admin.user.banned', data: {} })
  publish(hub, { type: 'admin.user.banned', userId: 'alice' })
  publish(hub, { type: 'authentication.login', userId: 'bob' })
  publish(hub, { type: 'system.maintenance' })
  t.same(user.types(), ['system.maintenance'])
  t.same(admin.types(), ['admin.user.banned', 'admin.user.banned', 'authentication.login', 'system.maintenance'])
})

t.test('overlapping patterns deliver once', async (t) => {
  const hub = new Hub()
  const user = connect(hub, 'alice', ['*', 'a.*', 'a.b.*', 'a.*.c', 'a.b.c'])
  const admin = connect(hub, 'root', ['*', 'a.*', 'a.b.c'], { stream: 'admin' })
  publish(hub, { type: 'a.b.c', userId: 'alice' })
  publish(hub, { type: 'a.b.c' })
  t.equal(user.socket.sent.length, 2)
  t.equal(admin.socket.sent.length, 2)
  t.equal(hub.stats().deliveries, 4)
  t.equal(hub.stats().eventsReceived, 2)
})

t.test('the frame is built once: every recipient gets the same Buffer', async (t) => {
  const hub = new Hub()
  const recipients = [connect(hub, 'alice', ['x.*']), connect(hub, 'bob', ['*']), connect(hub, 'root', ['*'], { stream: 'admin' })]
  publish(hub, { type: 'x.y', data: { n: 1 } })
  const [first] = recipients[0]?.socket.sent ?? []
  t.ok(Buffer.isBuffer(first))
  for (const r of recipients) {
    t.equal(r.socket.sent.length, 1)
    t.equal(r.socket.sent[0], first, 'the very same object')
  }
  publish(hub, { type: 'x.y' })
  t.not(recipients[0]?.socket.sent[1], first, 'the next event has its own frame')
})

t.test('unsubscribe stops delivery, subscribe is idempotent', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['a.*', 'b.*'])
  hub.subscribe(alice.connection, ['a.*'])
  t.equal(hub.stats().subscriptions, 2)
  hub.unsubscribe(alice.connection, ['a.*', 'never.subscribed'])
  publish(hub, { type: 'a.x', userId: 'alice' })
  publish(hub, { type: 'a.x' })
  publish(hub, { type: 'b.x', userId: 'alice' })
  t.same(alice.types(), ['b.x'])
  t.same([...alice.connection.patterns], ['b.*'])
})

t.test('remove() cleans every index', async (t) => {
  const hub = new Hub()
  const a1 = connect(hub, 'alice', ['*', 'a.*'])
  const a2 = connect(hub, 'alice', ['a.*'])
  const admin = connect(hub, 'root', ['*'], { stream: 'admin' })
  t.match(hub.stats(), { connections: 3, users: 2, subscriptions: 4 })
  t.equal(hub.connectionsOf('alice'), 2)
  hub.remove(a1.connection)
  t.equal(hub.connectionsOf('alice'), 1)
  publish(hub, { type: 'a.b', userId: 'alice' })
  t.equal(a1.socket.sent.length, 0, 'a removed connection receives nothing')
  t.equal(a2.socket.sent.length, 1)
  hub.remove(a2.connection)
  hub.remove(admin.connection)
  hub.remove(admin.connection)
  t.match(hub.stats(), { connections: 0, users: 0, subscriptions: 0 })
  t.equal(hub.size, 0)
  t.equal(hub.connectionsOf('alice'), 0)
  const indexes = hub as unknown as { byUser: Map<string, unknown>, broadcast: { size: number }, admin: { size: number } }
  t.same([indexes.byUser.size, indexes.broadcast.size, indexes.admin.size], [0, 0, 0], 'no pattern left in any trie')
  publish(hub, { type: 'a.b' })
  t.equal(a2.socket.sent.length + admin.socket.sent.length, 2, 'nothing more after removal')
})

t.test('heartbeat pings, then terminates a connection that missed its pong', async (t) => {
  const hub = new Hub()
  const responsive = connect(hub, 'alice', ['*'])
  const silent = connect(hub, 'bob', ['*'])
  hub.heartbeat()
  t.same([responsive.socket.pings, silent.socket.pings], [1, 1])
  t.equal(responsive.connection.alive, false, 'cleared until the pong')
  responsive.connection.alive = true // what the pong handler does
  hub.heartbeat()
  t.equal(silent.socket.terminated, true)
  t.equal(responsive.socket.terminated, false)
  t.same([responsive.socket.pings, silent.socket.pings], [2, 1], 'a terminated socket is not pinged again')
  t.match(hub.stats(), { connections: 1, users: 1, subscriptions: 1 })
})

t.test('closeWhere closes the open connections that match, among one user\'s when given', async (t) => {
  const hub = new Hub()
  const kept = connect(hub, 'alice', ['*'])
  const matched = connect(hub, 'alice', ['*'])
  const gone = connect(hub, 'alice', ['*'])
  gone.socket.readyState = 3
  const bob = connect(hub, 'bob', ['*'])
  const closed = hub.closeWhere((c) => c !== kept.connection, 4001, 'session_revoked', 'alice')
  t.same(closed, [matched.connection])
  t.same(matched.socket.closed, [[4001, 'session_revoked']])
  t.same(kept.socket.closed, [])
  t.same(gone.socket.closed, [], 'a socket already gone is not closed again')
  t.same(bob.socket.closed, [], 'another user\'s connections are not looked at')
  t.same(hub.closeWhere(() => true, 4001, 'session_revoked'), [kept.connection, matched.connection, bob.connection], 'without a user, every open connection')
})

t.test('a control event is delivered like any other, then handed to the control handler', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['session.*'])
  const handled: Array<[string, number]> = []
  hub.onControl((event) => { handled.push([event.id, alice.socket.sent.length]) })
  const marked = message({ type: 'session.revoked', userId: 'alice', control: 'revocation' })
  hub.deliver(marked)
  publish(hub, { type: 'session.revoked', userId: 'alice' })
  t.same(handled, [[marked.event.id, 1]], 'only the marked event, once alice had it')
  t.same(alice.types(), ['session.revoked', 'session.revoked'])
})

t.test('closeAll closes every connection with the code given', async (t) => {
  const hub = new Hub()
  const sockets = [connect(hub, 'alice', []), connect(hub, 'root', [], { stream: 'admin' })]
  hub.closeAll(1001, 'server_shutdown')
  for (const { socket } of sockets) t.same(socket.closed, [[1001, 'server_shutdown']])
})

t.test('a socket that is no longer open is not written to', async (t) => {
  const hub = new Hub()
  const closing = connect(hub, 'alice', ['*'])
  closing.socket.readyState = 2
  publish(hub, { type: 'a.b' })
  t.same(closing.socket.sent, [])
})

t.test('visible applies the delivery rules to one connection and one event', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', []).connection
  const admin = connect(hub, 'root', [], { stream: 'admin' }).connection
  const cases: Array<[EventInput, boolean]> = [
    [{ type: 'system.notice' }, true],
    [{ type: 'account.updated', userId: 'alice' }, true],
    [{ type: 'account.updated', userId: 'bob' }, false],
    [{ type: 'admin.user.banned' }, false],
    [{ type: 'admin.user.banned', userId: 'alice' }, false],
    [{ type: 'session.revoked', audience: 'admin' }, false],
    [{ type: 'security.auth.failed', userId: 'alice', audience: 'admin' }, false]
  ]
  for (const [input, forAlice] of cases) {
    const { event } = message(input)
    t.equal(hub.visible(alice, event), forAlice, `alice ${forAlice ? 'sees' : 'does not see'} ${JSON.stringify(input)}`)
    t.equal(hub.visible(admin, event), true, `the admin stream sees ${JSON.stringify(input)}`)
  }
})

t.test('while a connection holds its frames, deliveries queue on it in order, with their ids', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['a.*'])
  const bob = connect(hub, 'bob', ['a.*'])
  alice.connection.held = []
  const first = message({ type: 'a.one' })
  const second = message({ type: 'a.two', userId: 'alice' })
  hub.deliver(first)
  hub.deliver(second)
  t.same(alice.socket.sent, [], 'nothing written while held')
  t.same(alice.connection.held.map((h) => [h.id, JSON.parse(h.frame.text.toString()).payload.type]), [[first.event.id, 'a.one'], [second.event.id, 'a.two']])
  t.same(bob.types(), ['a.one'], 'other connections are not held back')
  alice.connection.held = undefined
  publish(hub, { type: 'a.three' })
  t.same(alice.types(), ['a.three'], 'delivered directly again once released')
})

t.test('heldEvents counts the live events held back on every connection', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['a.*'])
  const bob = connect(hub, 'bob', ['a.*'])
  connect(hub, 'carol', ['a.*'])
  t.equal(hub.heldEvents(), 0)
  alice.connection.held = []
  bob.connection.held = []
  publish(hub, { type: 'a.one' })
  publish(hub, { type: 'a.two', userId: 'alice' })
  t.equal(hub.heldEvents(), 3, 'two for alice, one for bob; carol\'s were written')
  hub.remove(bob.connection)
  t.equal(hub.heldEvents(), 2, 'a connection gone holds nothing')
})

t.test('a socket holding more than maxBufferedBytes is closed 4009 with the last event it was sent', async (t) => {
  const hub = new Hub({ maxBufferedBytes: 1000 })
  const slow = connect(hub, 'alice', ['a.*'])
  const other = connect(hub, 'bob', ['a.*'])
  const first = message({ type: 'a.one' })
  hub.deliver(first)
  slow.socket.bufferedAmount = 1000
  const second = message({ type: 'a.two' })
  hub.deliver(second)
  t.equal(slow.connection.lastEventId, second.event.id, 'at the bound is still within it')
  slow.socket.bufferedAmount = 1001
  publish(hub, { type: 'a.three' })
  t.same(slow.types(), ['a.one', 'a.two'], 'the event due past the bound is not sent')
  t.same(slow.socket.closed, [[4009, `slow_consumer:${second.event.id}`]])
  slow.socket.readyState = 2 // what ws does on close()
  publish(hub, { type: 'a.four' })
  t.equal(slow.socket.closed.length, 1, 'closed once')
  t.same(other.types(), ['a.one', 'a.two', 'a.three', 'a.four'], 'the others get every event')
  t.equal(hub.stats().deliveries, 6, 'only what was sent is counted')
})

t.test('a slow consumer sent nothing yet is closed with the bare reason', async (t) => {
  const hub = new Hub({ maxBufferedBytes: 1024 })
  const slow = connect(hub, 'alice', ['*'])
  slow.socket.bufferedAmount = 4096
  publish(hub, { type: 'a.one' })
  t.same(slow.socket.closed, [[4009, 'slow_consumer']])
  t.same(slow.socket.sent, [])
})

t.test('without a bound no socket is a slow consumer', async (t) => {
  const hub = new Hub()
  const busy = connect(hub, 'alice', ['*'])
  busy.socket.bufferedAmount = 2 ** 40
  publish(hub, { type: 'a.one' })
  t.same(busy.types(), ['a.one'])
  t.same(busy.socket.closed, [])
})

t.test('the sweep drops closed sockets still indexed, releasing their subscriptions', async (t) => {
  const hub = new Hub()
  const open = connect(hub, 'alice', ['a.*'])
  const leaked = connect(hub, 'alice', ['a.*', 'b.*'])
  const leakedAdmin = connect(hub, 'root', ['*'], { stream: 'admin' })
  leaked.socket.readyState = 3 // closed, but its close listener never ran
  leakedAdmin.socket.readyState = 3
  t.equal(hub.sweep(), 2)
  t.match(hub.stats(), { connections: 1, users: 1, subscriptions: 1 })
  t.equal(hub.connectionsOf('alice'), 1)
  t.same([...leaked.connection.patterns], [], 'its subscriptions are released')
  t.equal(leaked.socket.terminated, false, 'a closed socket needs no terminate')
  const indexes = hub as unknown as { byUser: { size: number }, admin: { size: number } }
  t.same([indexes.byUser.size, indexes.admin.size], [1, 0], 'nothing of theirs is left in the tries')
  publish(hub, { type: 'b.x', userId: 'alice' })
  publish(hub, { type: 'a.x' })
  t.same(open.types(), ['a.x'])
  t.equal(hub.sweep(), 0, 'an open socket is left alone')
})

t.test('the sweep terminates a socket found closing at two sweeps in a row', async (t) => {
  const hub = new Hub()
  const stuck = connect(hub, 'alice', ['*'])
  const closing = connect(hub, 'bob', ['*'])
  const open = connect(hub, 'carol', ['*'])
  stuck.socket.readyState = 2
  closing.socket.readyState = 2
  t.equal(hub.sweep(), 0, 'closing for less than an interval, maybe')
  t.same([stuck.socket.terminated, closing.socket.terminated], [false, false])
  hub.remove(closing.connection) // its close completed in between: the listener removed it
  t.equal(hub.sweep(), 1)
  t.equal(stuck.socket.terminated, true, 'closing for at least one interval: terminated')
  t.equal(open.socket.terminated, false)
  t.match(hub.stats(), { connections: 1, users: 1, subscriptions: 1 })
  publish(hub, { type: 'a.x' })
  t.same([stuck.socket.sent.length, open.socket.sent.length], [0, 1])
})
