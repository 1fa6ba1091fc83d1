import { ProtocolError } from '../wire/protocol-errors.js'
import {
  AUTHENTICATE_TYPES,
  type AuthenticateType,
  MAX_REQUEST_ID_LENGTH,
  PUSH_TYPES,
  REPLY_TYPES,
  REQUEST_TYPES,
  type RequestType,
  type ServerFrameType
} from '../wire/frames.js'
import { MAX_ROOM_NAME_LENGTH, ROOM_NAME_SOURCE, ROOM_ROLES } from '../wire/rooms.js'
import { EVENT_TYPE_SOURCE, MAX_EVENT_TYPE_LENGTH } from '../wire/topics.js'

/** A JSON Schema, as AsyncAPI's default schema format takes it. */
export type Schema = Readonly<Record<string, unknown>>

/** Every frame a client may send: the requests of an authenticated socket, and `authenticate`. */
export type ClientFrameType = RequestType | AuthenticateType
export type FrameType = ClientFrameType | ServerFrameType

interface FrameSpec {
  summary: string
  payload?: Schema
}

export const CLIENT_FRAME_TYPES: readonly ClientFrameType[] = [...REQUEST_TYPES, ...AUTHENTICATE_TYPES]
export const SERVER_FRAME_TYPES: readonly ServerFrameType[] = [...new Set([...REPLY_TYPES, ...PUSH_TYPES])]

const requestId: Schema = {
  description: 'Chosen by the client, echoed in the reply and in an error caused by the request',
  oneOf: [{ type: 'string', maxLength: MAX_REQUEST_ID_LENGTH }, { type: 'number' }]
}

/** The members a frame carries under MESSAGE_SIGNING_SECRET, both ways (docs/protocol.md, Signed frames). */
const seal: Record<string, Schema> = {
  timestamp: { type: 'integer', description: 'With MESSAGE_SIGNING_SECRET: when the frame was made, in epoch milliseconds' },
  nonce: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,64}$', description: 'With MESSAGE_SIGNING_SECRET: never used twice' },
  signature: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'With MESSAGE_SIGNING_SECRET: HMAC-SHA256 of the canonical form' }
}

const time: Schema = { type: 'string', format: 'date-time' }
const deadline: Schema = { oneOf: [time, { type: 'null' }], description: 'The token\'s exp; null for a token without one' }
const patterns: Schema = { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Patterns: dot-separated segments, `*` for one (as the last, one or more)' }
const position: Schema = { type: 'string', description: 'An event id, or one per partition joined by commas; opaque to clients' }
const token: Schema = object({ token: { type: 'string', description: 'A JWT' } }, ['token'])
const serverTime: Schema = object({ serverTime: time }, ['serverTime'])
const held: Schema = object({ eventTypes: patterns }, ['eventTypes'])
const room: Schema = { type: 'string', pattern: ROOM_NAME_SOURCE, maxLength: MAX_ROOM_NAME_LENGTH, description: 'A room name (docs/rooms.md)' }
const role: Schema = { type: 'string', enum: [...ROOM_ROLES] }
const inRoom: Schema = object({ room }, ['room'])

const event: Schema = object({
  id: { type: 'string', description: 'Ordered in publish order (per partition): `<ms>-<seq>`, or `p3:<ms>-<seq>` / `b:<ms>-<seq>` with partitions' },
  type: { type: 'string', pattern: EVENT_TYPE_SOURCE, maxLength: MAX_EVENT_TYPE_LENGTH },
  userId: { type: 'string' },
  sessionId: { type: 'string' },
  groups: { type: 'array', items: room, description: 'The rooms the event went to' },
  sender: { type: 'string', description: 'The user who published it into a room over a socket' },
  data: { type: 'object' },
  timestamp: time,
  audience: { const: 'admin', description: 'Delivered on /ws/admin only' }
}, ['id', 'type', 'data', 'timestamp'])

const fault: Schema = object({
  code: { type: 'string', enum: Object.values(ProtocolError) },
  message: { type: 'string' }
}, ['code', 'message'])

/**
 * What each frame carries. A type the table does not name yet is still described, by its name
 * and a free-form payload, so a frame added to the wire vocabulary is never missing here.
 */
const specs: Partial<Record<FrameType, FrameSpec>> = {
  subscribe: { summary: 'Subscribe to patterns; with `since`, first replay what was missed', payload: object({ eventTypes: patterns, since: position }, ['eventTypes']) },
  unsubscribe: { summary: 'Drop patterns', payload: held },
  get_subscriptions: { summary: 'List the patterns held' },
  ping: { summary: 'Application-level liveness check' },
  heartbeat: { summary: '`ping` under the name the design documents use' },
  reauthenticate: { summary: 'Swap the connection\'s token for a fresh one', payload: token },
  're-authenticate': { summary: '`reauthenticate` under the name the design documents use', payload: token },
  authenticate: { summary: 'Authenticate a socket opened without a credential, within WEBSOCKET_AUTH_TIMEOUT', payload: token },
  auth: { summary: '`authenticate` under the name the design documents use', payload: token },
  join: { summary: 'Enter a room the token grants a role in', payload: inRoom },
  leave: { summary: 'Leave a room joined', payload: inRoom },
  publish: {
    summary: 'Publish an event into a room: role write (room.* types) or admin',
    payload: object({ room, type: { type: 'string', pattern: EVENT_TYPE_SOURCE, maxLength: MAX_EVENT_TYPE_LENGTH }, data: { type: 'object' }, idempotencyKey: { type: 'string', minLength: 1, maxLength: 128 } }, ['room', 'type'])
  },
  get_rooms: { summary: 'List the rooms the token grants' },
  room_joined: { summary: 'In the room (without `id`: a reauthentication entered a new group)', payload: object({ room, role, position }, ['room', 'role']) },
  room_left: { summary: 'Out of the room (without `id`: a reauthentication took it away, `reason` revoked)', payload: object({ room, reason: { const: 'revoked' } }, ['room']) },
  published: { summary: 'The event is in the history', payload: object({ id: { type: 'string' } }, ['id']) },
  rooms: { summary: 'The rooms the token grants', payload: object({ rooms: { type: 'array', items: object({ room, role, joined: { type: 'boolean' } }, ['room', 'role', 'joined']) } }, ['rooms']) },
  subscribed: {
    summary: 'The patterns are held; after a resume, the replayed events follow',
    payload: object({ eventTypes: patterns, position, replayed: { type: 'integer' }, truncated: { type: 'boolean', description: 'Events after `since` may be lost: reload state' } }, ['eventTypes'])
  },
  unsubscribed: { summary: 'The patterns are dropped', payload: held },
  subscriptions: { summary: 'The patterns held', payload: held },
  pong: { summary: 'Answer to `ping`', payload: serverTime },
  heartbeat_response: { summary: 'Answer to `heartbeat`', payload: serverTime },
  reauthenticated: { summary: 'The new token is in force', payload: object({ expiresAt: deadline }, ['expiresAt']) },
  error: { summary: 'A refusal; with `id`, of that request. It never closes the connection', payload: fault },
  connected: {
    summary: 'The socket is open and authenticated',
    payload: object({ connectionId: { type: 'string' }, serverId: { type: 'string' }, userId: { type: 'string' }, groups: { type: 'array', items: room }, expiresAt: deadline, heartbeatIntervalMs: { type: 'integer' } }, ['connectionId', 'serverId', 'userId', 'groups', 'expiresAt', 'heartbeatIntervalMs'])
  },
  event: { summary: 'An event matching a pattern held, delivered once', payload: event },
  token_expiring: { summary: 'TOKEN_EXPIRY_WARNING before the token\'s exp: reauthenticate to stay connected', payload: object({ expiresAt: time }, ['expiresAt']) }
}

/**
 * The AsyncAPI message of a frame type: the whole frame as its payload, `id` where the frame
 * answers or may be answered, the signing members, and the payload's schema.
 */
export function message (type: FrameType, withId: boolean): Schema {
  const spec = specs[type] ?? { summary: `The \`${type}\` frame (docs/protocol.md)` }
  const frame = object({
    type: { const: type },
    ...(withId ? { id: requestId } : {}),
    payload: spec.payload ?? { type: 'object' },
    ...seal
  }, ['type'])
  return {
    name: type,
    title: type,
    summary: spec.summary,
    contentType: 'application/json',
    payload: frame,
    ...(withId ? { correlationId: { location: '$message.payload#/id' } } : {})
  }
}

function object (properties: Record<string, Schema>, required: string[]): Schema {
  return { type: 'object', properties, required }
}
