/**
 * The frames of the WebSocket protocol: JSON text, `{"type", "id"?, "payload"?}`. A client sends
 * requests; the gateway answers each with a reply that echoes its `id`, and pushes frames unasked.
 */

/**
 * What a client asks. `heartbeat` and `re-authenticate` are the design documents' names for
 * `ping` and `reauthenticate`, understood so clients written against them work unchanged.
 */
export type RequestType = 'subscribe' | 'unsubscribe' | 'get_subscriptions' | 'ping' | 'heartbeat' | ReauthenticateType | RoomRequestType

/** The requests of rooms (docs/rooms.md). */
export type RoomRequestType = 'join' | 'leave' | 'publish' | 'get_rooms'

/** The two names of the request that swaps a connection's token. */
export type ReauthenticateType = 'reauthenticate' | 're-authenticate'

/**
 * The request of a socket opened without a credential, and its name in the design documents.
 * Only such a socket understands it; on an authenticated one it is an unknown type.
 */
export type AuthenticateType = 'authenticate' | 'auth'

/**
 * The gateway's answers to a request, each carrying the request's `id`; `error` for a refusal.
 * `heartbeat` is answered `heartbeat_response`, the name its documents expect; both names of
 * the token swap are answered `reauthenticated`.
 */
export type ReplyType = 'subscribed' | 'unsubscribed' | 'subscriptions' | 'pong' | 'heartbeat_response' | 'reauthenticated' | 'room_joined' | 'room_left' | 'published' | 'rooms' | 'error'

/**
 * What the gateway sends unasked; an `error` without an `id` answers no request of the client's.
 * `room_joined` and `room_left` without an `id` say a reauthentication changed the rooms.
 */
export type PushType = 'connected' | 'event' | 'token_expiring' | 'room_joined' | 'room_left' | 'error'

export type ServerFrameType = ReplyType | PushType

/** A request's `id` is a string of at most this many characters, or a finite number. */
export const MAX_REQUEST_ID_LENGTH = 128

/** The longest request `type` the gateway reads: every request type is far shorter. */
export const MAX_REQUEST_TYPE_LENGTH = 64

/**
 * Every frame type at run time, for what describes the protocol (the AsyncAPI document). Each
 * list is the keys of a record checked against its union: the compiler refuses a type the
 * record misses or one the union does not name, so a list cannot drift from its type.
 */
export const REQUEST_TYPES = typesOf({
  subscribe: true,
  unsubscribe: true,
  get_subscriptions: true,
  ping: true,
  heartbeat: true,
  reauthenticate: true,
  're-authenticate': true,
  join: true,
  leave: true,
  publish: true,
  get_rooms: true
} satisfies Record<RequestType, true>)

export const AUTHENTICATE_TYPES = typesOf({ authenticate: true, auth: true } satisfies Record<AuthenticateType, true>)

export const REPLY_TYPES = typesOf({
  subscribed: true,
  unsubscribed: true,
  subscriptions: true,
  pong: true,
  heartbeat_response: true,
  reauthenticated: true,
  room_joined: true,
  room_left: true,
  published: true,
  rooms: true,
  error: true
} satisfies Record<ReplyType, true>)

export const PUSH_TYPES = typesOf({ connected: true, event: true, token_expiring: true, room_joined: true, room_left: true, error: true } satisfies Record<PushType, true>)

function typesOf<T extends string> (record: Record<T, true>): readonly T[] {
  return Object.keys(record) as T[]
}
