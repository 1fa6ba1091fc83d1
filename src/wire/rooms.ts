/**
 * Rooms: who may be in one and what a member may do there. A group is a room the token puts a
 * connection in from the start (`groups` claim); a room is one it may enter with `join` (`rooms`
 * claim). Shared by the gateway, which enforces the rules, and the SDK.
 */

/** The roles a token grants per room, lowest first: each may do what the ones before it may. */
export const ROOM_ROLES = ['read', 'write', 'admin'] as const
export type RoomRole = typeof ROOM_ROLES[number]

/** The longest room name: it goes into channel names and keys. */
export const MAX_ROOM_NAME_LENGTH = 64
export const ROOM_NAME_SOURCE = `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,${MAX_ROOM_NAME_LENGTH - 1}}$`
const ROOM_NAME = new RegExp(ROOM_NAME_SOURCE)
/** The grammar of room names in words, with examples. */
export const ROOM_NAME_RULE = `a room name: 1 to ${MAX_ROOM_NAME_LENGTH} letters, digits, _ - . or :, starting with a letter or digit, e.g. team-42 or org:acme`

/** The most rooms one token's `groups` and `rooms` claims may each list. */
export const MAX_ROOMS_PER_CLAIM = 64

/** The most rooms one published event may name. */
export const MAX_GROUPS_PER_EVENT = 16

/** The presence events: the gateway's alone, live only. */
export const ROOM_PRESENCE = { joined: 'room.user_joined', left: 'room.user_left' } as const

/** Namespaces only the gateway and backend services publish in; no room member may. */
const RESERVED_NAMESPACES: ReadonlySet<string> = new Set(['authentication', 'security', 'session', 'system', 'admin'])

export function isRoomName (value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ROOM_NAME_LENGTH && ROOM_NAME.test(value)
}

export function isRoomRole (value: unknown): value is RoomRole {
  return typeof value === 'string' && (ROOM_ROLES as readonly string[]).includes(value)
}

/** Whether `role` is at least `needed`. */
export function roleAllows (role: RoomRole | undefined, needed: RoomRole): boolean {
  return role !== undefined && ROOM_ROLES.indexOf(role) >= ROOM_ROLES.indexOf(needed)
}

/** The higher of two roles. */
export function higherRole (a: RoomRole | undefined, b: RoomRole): RoomRole {
  return roleAllows(a, b) ? a as RoomRole : b
}

/**
 * Why a member with `role` may not publish an event of `type` into a room, or undefined: `write`
 * publishes `room.*` types, `admin` any type outside the gateway's namespaces; nobody the
 * presence types, which only the gateway sends.
 */
export function publishRefusal (role: RoomRole | undefined, type: string): string | undefined {
  if (!roleAllows(role, 'write')) return 'publishing into a room needs role write or admin there'
  if (type === ROOM_PRESENCE.joined || type === ROOM_PRESENCE.left) return `${type} is sent by the gateway alone`
  const namespace = type.slice(0, type.indexOf('.') === -1 ? type.length : type.indexOf('.'))
  if (RESERVED_NAMESPACES.has(namespace)) return `${namespace}.* events are published by backend services only`
  if (role === 'write' && namespace !== 'room') return 'role write publishes room.* events; other types need role admin'
  return undefined
}
