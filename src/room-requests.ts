import { BusUnavailableError } from './bus/bus.js'
import type { Connection } from './connection.js'
import { ProtocolError } from './errors.js'
import { dataProblem } from './events.js'
import type { Fault } from './protocol.js'
import type { Publisher } from './publisher.js'
import type { Reply } from './requests.js'
import { positionFor, type ResumeContext } from './resume.js'
import type { Rooms } from './rooms.js'
import { within } from './within.js'
import { isRoomName, publishRefusal, ROOM_NAME_RULE } from './wire/rooms.js'
import { EVENT_TYPE_RULE, isEventType, MAX_EVENT_TYPE_LENGTH } from './wire/topics.js'

export interface RoomRequestContext extends ResumeContext {
  rooms: Rooms
  publisher: Publisher
}

type RoomRequest = (ctx: RoomRequestContext, connection: Connection, payload: Record<string, unknown>) => Reply | Fault | Promise<Reply | Fault>

/** How long a `join` waits for the bus to read the room here before answering without a position. */
const READ_WAIT_MS = 5000
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/

const NO_ROOM: Fault = { code: ProtocolError.INVALID_MESSAGE, message: `payload.room must be ${ROOM_NAME_RULE}` }
const CLOSED: Fault = { code: ProtocolError.INTERNAL_ERROR, message: 'the connection closed' }

/** The requests of rooms (docs/rooms.md); each reply echoes the request's `id`. */
export const roomRequests = {
  async join (ctx, connection, { room }) {
    if (!isRoomName(room)) return NO_ROOM
    const role = connection.identity.rooms.get(room)
    if (role === undefined) return { code: ProtocolError.FORBIDDEN, message: `the token grants no role in room "${room}"` }
    if (connection.rooms.has(room)) return joined(ctx, connection, room)
    const held = [...connection.rooms.values()].filter((by) => by === 'joined').length
    if (held >= ctx.rooms.limits.maxJoined) return { code: ProtocolError.TOO_MANY_ROOMS, message: `a connection joins at most ${ctx.rooms.limits.maxJoined} rooms` }
    const spent = await ctx.rooms.spend(connection)
    if (spent !== undefined) return spent
    const admitted = await ctx.rooms.admit(connection, room)
    if (admitted !== true) return admitted === false ? { code: ProtocolError.ROOM_FULL, message: `room "${room}" holds at most ${ctx.rooms.limits.maxMembers} members` } : admitted
    // The socket may have closed while the slot was taken: the close listener has run already.
    if (!connection.open) {
      ctx.rooms.release(connection, room)
      return CLOSED
    }
    await within(ctx.rooms.enter(connection, room), READ_WAIT_MS)
    return joined(ctx, connection, room)
  },

  leave (ctx, connection, { room }) {
    if (!isRoomName(room)) return NO_ROOM
    if (connection.rooms.get(room) === 'group' && connection.identity.groups.includes(room)) {
      return { code: ProtocolError.FORBIDDEN, message: `"${room}" is a group of the token: it is not left` }
    }
    ctx.rooms.exit(connection, room)
    return { type: 'room_left', payload: { room } }
  },

  async publish (ctx, connection, payload) {
    const { room, type, data, idempotencyKey } = payload
    if (!isRoomName(room)) return NO_ROOM
    if (typeof type !== 'string' || type.length > MAX_EVENT_TYPE_LENGTH || !isEventType(type)) {
      return { code: ProtocolError.INVALID_MESSAGE, message: `payload.type must be ${EVENT_TYPE_RULE}` }
    }
    if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) return { code: ProtocolError.INVALID_MESSAGE, message: 'payload.data must be an object' }
    const problem = data === undefined ? undefined : dataProblem(data, 'payload.data', ctx.maxDataBytes)
    if (problem !== undefined) return { code: ProtocolError.INVALID_MESSAGE, message: problem }
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
      return { code: ProtocolError.INVALID_MESSAGE, message: 'payload.idempotencyKey must be 1 to 128 printable ASCII characters' }
    }
    const refused = publishRefusal(connection.identity.rooms.get(room), type)
    if (refused !== undefined) return { code: ProtocolError.FORBIDDEN, message: `"${room}": ${refused}` }
    const spent = await ctx.rooms.spend(connection)
    if (spent !== undefined) return spent
    const { userId } = connection.identity
    try {
      const [id] = await ctx.publisher.publish([{
        type,
        groups: [room],
        sender: userId,
        ...(data === undefined ? {} : { data: data as Record<string, unknown> }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey })
      }], { publisher: userId })
      return { type: 'published', payload: { id } }
    } catch (err) {
      if (err instanceof BusUnavailableError) return { code: ProtocolError.UNAVAILABLE, message: 'the event bus is unreachable; publish again shortly' }
      throw err
    }
  },

  get_rooms (_ctx, connection) {
    const rooms = [...connection.identity.rooms].map(([room, role]) => ({ room, role, joined: connection.rooms.has(room) }))
    return { type: 'rooms', payload: { rooms } }
  }
} satisfies Record<string, RoomRequest>

function joined (ctx: RoomRequestContext, connection: Connection, room: string): Reply {
  const position = positionFor(ctx, connection)
  return { type: 'room_joined', payload: { room, role: connection.identity.rooms.get(room), ...(position === undefined ? {} : { position }) } }
}
