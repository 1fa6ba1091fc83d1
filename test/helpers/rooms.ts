import { MemoryBus } from '../../src/bus/memory.js'
import type { Hub } from '../../src/hub.js'
import type { Log } from '../../src/logging.js'
import { Publisher } from '../../src/publisher.js'
import { Rooms } from '../../src/rooms.js'
import { MemoryStore } from '../../src/store/memory.js'

const quiet: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => quiet }

/** The room services of a session context on the embedded bus and store, for core unit tests. */
export function embeddedRooms (hub: Hub, bus = new MemoryBus({ maxEvents: 100, maxAgeMs: 60_000 })): { rooms: Rooms, publisher: Publisher } {
  const rooms = new Rooms({ hub, bus, store: new MemoryStore(), log: quiet }, { maxMembers: 10, maxJoined: 5, perUserPerMinute: 100, slotTtlMs: 60_000 })
  return { rooms, publisher: new Publisher(bus, 60_000) }
}
