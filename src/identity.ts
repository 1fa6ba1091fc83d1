import { MAX_USER_OR_SESSION_ID_LENGTH } from './events.js'
import { higherRole, isRoomName, isRoomRole, MAX_ROOMS_PER_CLAIM, type RoomRole } from './wire/rooms.js'

/** Who is on the other end of a request or socket, read from verified JWT claims. */
export interface Identity {
  userId: string
  sessionId: string | undefined
  roles: readonly string[]
  permissions: readonly string[]
  tokenId: string | undefined
  /** Token expiry in epoch milliseconds, or undefined for a token without `exp`. */
  expiresAt: number | undefined
  /** Token issue time (`iat`) in epoch milliseconds; absent, revocation counts it as issued before. */
  issuedAt?: number
  /** The rooms the token grants, with the role in each (`groups` and `rooms` claims). */
  rooms: ReadonlyMap<string, RoomRole>
  /** The rooms the token puts the connection in from the start (`groups` claim). */
  groups: readonly string[]
}

/** Returns the identity, or the reason the claims cannot name one. */
export function identityFromClaims (claims: Record<string, unknown>): Identity | string {
  const { sub, sid, roles, permissions, jti, exp, iat, groups, rooms } = claims
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_OR_SESSION_ID_LENGTH) return 'token has no valid sub claim'
  if (sid !== undefined && (typeof sid !== 'string' || sid.length === 0 || sid.length > MAX_USER_OR_SESSION_ID_LENGTH)) return 'token has an invalid sid claim'
  if (roles !== undefined && !isStringArray(roles)) return 'token has an invalid roles claim'
  if (permissions !== undefined && !isStringArray(permissions)) return 'token has an invalid permissions claim'
  if (groups !== undefined && !isRoomList(groups)) return 'token has an invalid groups claim'
  if (rooms !== undefined && !isRoomGrants(rooms)) return 'token has an invalid rooms claim'
  return {
    userId: sub,
    sessionId: sid,
    roles: roles ?? [],
    permissions: permissions ?? [],
    tokenId: typeof jti === 'string' ? jti : undefined,
    expiresAt: typeof exp === 'number' ? exp * 1000 : undefined,
    ...(typeof iat === 'number' ? { issuedAt: iat * 1000 } : {}),
    ...grants(groups, rooms)
  }
}

/** Most tokens grant no room: they share one empty map and list rather than hold their own. */
const NO_ROOMS: ReadonlyMap<string, RoomRole> = new Map()
const NO_GROUPS: readonly string[] = Object.freeze([])

function grants (groups: string[] | undefined, rooms: Record<string, RoomRole> | undefined): Pick<Identity, 'rooms' | 'groups'> {
  if ((groups === undefined || groups.length === 0) && (rooms === undefined || Object.keys(rooms).length === 0)) return { rooms: NO_ROOMS, groups: NO_GROUPS }
  return { rooms: grantedRooms(groups ?? [], rooms ?? {}), groups: groups === undefined ? NO_GROUPS : [...new Set(groups)] }
}

/** A group is the role `read` in its room, unless the `rooms` claim grants a higher one. */
function grantedRooms (groups: readonly string[], rooms: Readonly<Record<string, RoomRole>>): ReadonlyMap<string, RoomRole> {
  const granted = new Map<string, RoomRole>(Object.entries(rooms))
  for (const group of groups) granted.set(group, higherRole(granted.get(group), 'read'))
  return granted
}

function isRoomList (value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= MAX_ROOMS_PER_CLAIM && value.every(isRoomName)
}

function isRoomGrants (value: unknown): value is Record<string, RoomRole> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const entries = Object.entries(value)
  return entries.length <= MAX_ROOMS_PER_CLAIM && entries.every(([room, role]) => isRoomName(room) && isRoomRole(role))
}

export function isAdmin (identity: Identity): boolean {
  return identity.roles.includes('admin')
}

/** Backend services publish with role `service` or `admin`, or the `events:publish` permission. */
export function canPublish (identity: Identity): boolean {
  return isAdmin(identity) || identity.roles.includes('service') || identity.permissions.includes('events:publish')
}

/**
 * The figures of `GET /ws/stats` are for administrators and moderators; a moderator gets no
 * other admin right (not /ws/admin, not publishing, not revoking).
 */
export function canReadStats (identity: Identity): boolean {
  return isAdmin(identity) || identity.roles.includes('moderator')
}

/** Revoking sessions and users is for administrators and backend services. */
export function canRevoke (identity: Identity): boolean {
  return isAdmin(identity) || identity.roles.includes('service')
}

function isStringArray (value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}
