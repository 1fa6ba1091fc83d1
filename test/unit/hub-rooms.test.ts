import t from 'tap'
import type { BusMessage } from '../../src/bus/bus.js'
import { Connection, type RoomEntry } from '../../src/connection.js'
import { createDraft, eventJson, type EventInput } from '../../src/events.js'
import { Hub } from '../../src/hub.js'
import { Partitioning } from '../../src/partitions.js'
import { IdClock } from '../../src/wire/event-id.js'
import type { Stream } from '../../src/wire/streams.js'
import { quietLog, RecordingSocket } from '../helpers/recording-socket.js'

const log = quietLog

let ids = 0
function connect (hub: Hub, userId: string, patterns: string[], rooms: Record<string, RoomEntry> = {}, stream: Stream = 'events') {
  const socket = new RecordingSocket()
  const identity = { userId, sessionId: undefined, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }
  const connection = new Connection(`c${++ids}`, socket, identity, stream, log)
  hub.add(connection)
  for (const [room, by] of Object.entries(rooms)) hub.enter(connection, room, by)
  hub.subscribe(connection, patterns)
  const events = () => socket.sent.map((f) => JSON.parse(f.toString()).payload as { id: string, type: string })
  return { connection, types: () => events().map((e) => e.type), ids: () => events().map((e) => e.id) }
}

const clock = new IdClock()
function message (input: EventInput, partition?: string): BusMessage {
  const draft = createDraft(input)
  const id = partition === undefined ? clock.next() : `${partition}:${clock.next()}`
  return { event: { id, ...draft }, json: eventJson(id, JSON.stringify(draft)) }
}

t.test('a member never receives another room\'s events, whatever its patterns', async (t) => {
  const hub = new Hub()
  const red = connect(hub, 'alice', ['*'], { red: 'joined' })
  const blue = connect(hub, 'bob', ['room.*', 'incident.*'], { blue: 'group' })
  const both = connect(hub, 'carol', ['incident.*'], { red: 'joined', blue: 'joined' })
  const outsider = connect(hub, 'dave', ['*'])
  hub.deliver(message({ type: 'room.message', groups: ['red'] }))
  hub.deliver(message({ type: 'incident.opened', groups: ['blue'] }))
  hub.deliver(message({ type: 'incident.closed', groups: ['red', 'blue'] }))
  t.same(red.types(), ['room.message', 'incident.closed'])
  t.same(blue.types(), ['incident.opened', 'incident.closed'])
  t.same(both.types(), ['incident.opened', 'incident.closed'], 'a member of both gets an event for both once; its patterns still choose')
  t.same(outsider.types(), [], 'not a member: not even with *')
})

t.test('an event for a user and rooms reaches both, once each', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['*'], { red: 'joined' })
  const bob = connect(hub, 'bob', ['*'], { red: 'joined' })
  const carol = connect(hub, 'carol', ['*'])
  const admin = connect(hub, 'root', ['*'], {}, 'admin')
  hub.deliver(message({ type: 'security.alert', userId: 'carol', groups: ['red'] }))
  hub.deliver(message({ type: 'security.alert', userId: 'alice', groups: ['red'] }))
  t.same([alice.types().length, bob.types().length, carol.types().length, admin.types().length], [2, 2, 1, 2])
})

t.test('entering and leaving moves the connection\'s patterns in and out of the room', async (t) => {
  const hub = new Hub()
  const alice = connect(hub, 'alice', ['room.*'])
  t.ok(hub.enter(alice.connection, 'red', 'joined'))
  t.notOk(hub.enter(alice.connection, 'red', 'joined'), 'in already')
  hub.deliver(message({ type: 'room.message', groups: ['red'] }))
  hub.subscribe(alice.connection, ['incident.*'])
  hub.deliver(message({ type: 'incident.opened', groups: ['red'] }))
  t.ok(hub.exit(alice.connection, 'red'))
  t.notOk(hub.exit(alice.connection, 'red'), 'out already')
  hub.deliver(message({ type: 'room.message', groups: ['red'] }))
  t.same(alice.types(), ['room.message', 'incident.opened'])
  t.ok(hub.visible(alice.connection, message({ type: 'room.message' }).event), 'a broadcast stays visible')
  t.notOk(hub.visible(alice.connection, message({ type: 'room.message', groups: ['red'] }).event), 'a room it left is not')
})

t.test('with copies in several partitions, each connection takes exactly one', async (t) => {
  const partitioning = new Partitioning(16)
  const hub = new Hub({ partitioning })
  // Two rooms in different partitions, and a user in a third.
  const rooms = ['red', 'blue', 'green', 'amber', 'teal'].filter((r, i, all) => all.findIndex((o) => partitioning.ofRoom(o) === partitioning.ofRoom(r)) === i).slice(0, 2)
  const [first, second] = rooms as [string, string]
  t.not(partitioning.ofRoom(first), partitioning.ofRoom(second), 'two rooms in two partitions')
  const inFirst = connect(hub, 'alice', ['*'], { [first]: 'joined' })
  const inBoth = connect(hub, 'bob', ['*'], { [first]: 'joined', [second]: 'joined' })
  const inSecond = connect(hub, 'carol', ['*'], { [second]: 'group' })
  const admin = connect(hub, 'root', ['*'], {}, 'admin')
  const input = { type: 'incident.opened', groups: [second, first] }
  const placements = partitioning.placements(input)
  t.same(placements, [partitioning.ofRoom(second), partitioning.ofRoom(first)])
  for (const partition of placements) hub.deliver(message(input, partition))
  t.same(inFirst.ids().map((id) => id.split(':')[0]), [partitioning.ofRoom(first)])
  t.same(inBoth.ids().map((id) => id.split(':')[0]), [partitioning.ofRoom(second)], 'a member of both takes the first room\'s copy alone')
  t.same(inSecond.ids().map((id) => id.split(':')[0]), [partitioning.ofRoom(second)])
  t.same(admin.ids().map((id) => id.split(':')[0]), [placements[0]], 'an admin stream takes the first copy')
  const replayed = placements.map((partition) => message(input, partition).event)
  t.same(replayed.map((event) => hub.visible(inBoth.connection, event)), [true, false], 'a replay keeps the same copy')
})
