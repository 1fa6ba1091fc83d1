import type { Bus } from './bus/bus.js'
import type { Connection } from './connection.js'
import { ProtocolError } from './errors.js'
import type { Hub } from './hub.js'
import type { Log } from './logging.js'
import { encodeFrame, type Fault, type Sealer } from './protocol.js'
import type { Store } from './store/store.js'
import { ROOM_PRESENCE } from './wire/rooms.js'

/** ROOM_* settings. */
export interface RoomLimits {
  /** ROOM_MAX_MEMBERS: connections that joined one room with `join`, across instances. */
  maxMembers: number
  /** ROOM_MAX_JOINED: rooms one connection holds by `join`. */
  maxJoined: number
  /** ROOM_PUBLISH_LIMIT: events a user's sockets put into rooms per minute (publishes and joins). */
  perUserPerMinute: number
  /** How long a member's slot lives unless refreshed (two heartbeats). */
  slotTtlMs: number
}

export interface RoomServices {
  hub: Hub
  bus: Pick<Bus, 'partitioning' | 'readRoom' | 'unreadRoom' | 'publishLive'>
  store: Store
  log: Log
  seal?: Sealer | undefined
}

const memberKey = (room: string): string => `room:${room}`
const budgetKey = (userId: string): string => `room-budget:${userId}`
const MINUTE_MS = 60_000

/** The shared store cannot count: a join or publish is refused rather than let past a limit. */
export const STORE_UNREACHABLE: Fault = { code: ProtocolError.UNAVAILABLE, message: 'the shared store is unreachable; retry shortly' }

/**
 * Rooms as this instance holds them (docs/rooms.md): who enters and leaves, the member slots
 * that bound a room across instances, the partitions a member's socket reads, and the presence
 * events. The requests that use it are in room-requests.ts.
 */
export class Rooms {
  constructor (private readonly services: RoomServices, readonly limits: RoomLimits) {}

  /** At open: the connection is in its token's groups. Resolves once the bus reads them all. */
  async enterGroups (connection: Connection): Promise<void> {
    for (const group of connection.identity.groups) this.services.hub.enter(connection, group, 'group')
    this.updateReads(connection)
    await Promise.all(connection.identity.groups.map(async (group) => { await this.services.bus.readRoom(group) }))
  }

  /** Counts one more event a user's sockets put into rooms; a fault past ROOM_PUBLISH_LIMIT. */
  async spend (connection: Connection): Promise<Fault | undefined> {
    let count: number
    try {
      count = await this.services.store.increment(budgetKey(connection.identity.userId), MINUTE_MS)
    } catch (err) {
      connection.log.warn({ err }, 'room budget unavailable')
      return STORE_UNREACHABLE
    }
    if (count <= this.limits.perUserPerMinute) return undefined
    return { code: ProtocolError.RATE_LIMITED, message: `a user puts at most ${this.limits.perUserPerMinute} events per minute into rooms (publishes and joins)` }
  }

  /** Takes a member slot of the room for `join`: false when the room is full. */
  async admit (connection: Connection, room: string): Promise<boolean | Fault> {
    try {
      return await this.services.store.acquireSlot(memberKey(room), connection.id, this.limits.maxMembers, this.limits.slotTtlMs)
    } catch (err) {
      connection.log.warn({ err, room }, 'room slots unavailable')
      return STORE_UNREACHABLE
    }
  }

  /** Puts a connection that was admitted into the room; resolves once the bus reads it here. */
  async enter (connection: Connection, room: string): Promise<void> {
    this.services.hub.enter(connection, room, 'joined')
    this.updateReads(connection)
    this.presence(connection, room, ROOM_PRESENCE.joined)
    await this.services.bus.readRoom(room)
  }

  /** Takes a connection out of a room, as a `leave`, a lost grant or a close does. */
  exit (connection: Connection, room: string): void {
    const by = connection.rooms.get(room)
    if (by === undefined) return
    this.services.hub.exit(connection, room)
    this.left(connection, room, by)
    this.updateReads(connection)
  }

  /** The socket closed (the hub let go of it already): its rooms are left. */
  closed (connection: Connection): void {
    for (const [room, by] of connection.rooms) this.left(connection, room, by)
    for (const room of [...connection.rooms.keys()]) connection.deleteRoom(room)
  }

  /**
   * After `reauthenticate`: a room the new token no longer grants is left, a new group is
   * entered, each told with a push; a changed role applies from the next request.
   */
  regrant (connection: Connection): void {
    const { identity } = connection
    for (const room of [...connection.rooms.keys()]) {
      if (identity.rooms.has(room)) continue
      this.exit(connection, room)
      this.push(connection, 'room_left', { room, reason: 'revoked' })
    }
    const entered = identity.groups.filter((group) => this.services.hub.enter(connection, group, 'group'))
    if (entered.length === 0) return
    this.updateReads(connection)
    for (const group of entered) {
      void this.services.bus.readRoom(group)
      this.push(connection, 'room_joined', { room: group, role: identity.rooms.get(group) })
    }
  }

  /** Keeps the member slots of this instance's open connections (each heartbeat). */
  refresh (connections: Iterable<Connection>): void {
    const slots = []
    for (const connection of connections) {
      for (const [room, by] of connection.rooms) if (by === 'joined') slots.push({ key: memberKey(room), member: connection.id })
    }
    if (slots.length === 0) return
    this.services.store.refreshSlots(slots, this.limits.slotTtlMs).catch((err: unknown) => {
      this.services.log.debug({ err }, 'room slots not refreshed')
    })
  }

  /** Gives back a member slot taken for a connection that will not enter after all. */
  release (connection: Connection, room: string): void {
    this.services.store.releaseSlot(memberKey(room), connection.id).catch((err: unknown) => {
      connection.log.debug({ err, room }, 'room slot not released; it expires on its own')
    })
  }

  private left (connection: Connection, room: string, by: 'group' | 'joined'): void {
    this.services.bus.unreadRoom(room)
    if (by !== 'joined') return
    this.release(connection, room)
    this.presence(connection, room, ROOM_PRESENCE.left)
  }

  /** What the connection reads: its stream's partitions and its rooms'. */
  private updateReads (connection: Connection): void {
    const { partitioning } = this.services.bus
    const reads = new Set(partitioning.read(connection.stream, connection.identity.userId))
    for (const room of connection.rooms.keys()) reads.add(partitioning.roomInterest(room)[0])
    connection.reads = [...reads]
  }

  /** A live-only presence event to the room's members; a lost one is logged, never retried. */
  private presence (connection: Connection, room: string, type: string): void {
    const data = { room, userId: connection.identity.userId, connectionId: connection.id }
    this.services.bus.publishLive({ type, groups: [room], data, timestamp: new Date().toISOString() }).catch((err: unknown) => {
      connection.log.warn({ err, room }, 'presence event not published')
    })
  }

  private push (connection: Connection, type: 'room_joined' | 'room_left', payload: Record<string, unknown>): void {
    connection.send(encodeFrame(type, undefined, payload, this.services.seal))
  }
}
