import { performance } from 'node:perf_hooks'
import { Connection, type Socket } from '../src/connection.js'
import { createDraft, eventJson } from '../src/events.js'
import { Hub } from '../src/hub.js'
import type { Log } from '../src/logging.js'
import { IdClock } from '../src/wire/event-id.js'

/**
 * What a room event costs the hub as the connections outside the room grow: the per-room index
 * should make it flat. Delivers the same room events with 0 and with 20,000 other connections
 * (each subscribed to `*`, half of them in other rooms) and prints the time per event.
 */
const quiet: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => quiet }
const socket: Socket = { readyState: 1, bufferedAmount: 0, send () {}, close () {}, terminate () {}, ping () {} }
const EVENTS = 200_000
const MEMBERS = 10

function connection (hub: Hub, userId: string, room: string | undefined): void {
  const identity = { userId, sessionId: undefined, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }
  const c = new Connection(userId, socket, identity, 'events', quiet)
  hub.add(c)
  if (room !== undefined) hub.enter(c, room, 'joined')
  hub.subscribe(c, ['*'])
}

function nsPerEvent (others: number): number {
  const hub = new Hub()
  for (let i = 0; i < MEMBERS; i++) connection(hub, `member-${i}`, 'war')
  for (let i = 0; i < others; i++) connection(hub, `other-${i}`, i % 2 === 0 ? `room-${i % 500}` : undefined)
  const clock = new IdClock()
  const draft = createDraft({ type: 'room.message', groups: ['war'] })
  const json = JSON.stringify(draft)
  const messages = Array.from({ length: 1000 }, () => {
    const id = clock.next()
    return { event: { id, ...draft }, json: eventJson(id, json) }
  })
  for (let i = 0; i < 20_000; i++) hub.deliver(messages[i % messages.length] as never)
  const started = performance.now()
  for (let i = 0; i < EVENTS; i++) hub.deliver(messages[i % messages.length] as never)
  const ns = (performance.now() - started) * 1e6 / EVENTS
  const { deliveries } = hub.stats()
  if (deliveries !== (EVENTS + 20_000) * MEMBERS) throw new Error(`expected ${(EVENTS + 20_000) * MEMBERS} deliveries, got ${deliveries}`)
  return ns
}

const alone = nsPerEvent(0)
const crowded = nsPerEvent(20_000)
process.stdout.write(`room event to ${MEMBERS} members: ${alone.toFixed(0)} ns with no other connection, ${crowded.toFixed(0)} ns with 20,000 others (${(crowded / alone).toFixed(2)}×)\n`)
