import { isRoomName, MAX_GROUPS_PER_EVENT } from './wire/rooms.js'
import { isEventType } from './wire/topics.js'

/** An event as it travels on the bus and reaches subscribers. */
export interface GatewayEvent {
  id: string
  type: string
  userId?: string
  sessionId?: string
  /** The rooms the event goes to (docs/rooms.md), beside `userId` when both are named. */
  groups?: string[]
  /** The user who published the event into a room over a socket; set by the gateway alone. */
  sender?: string
  data: Record<string, unknown>
  timestamp: string
  /** `admin`: delivered to /ws/admin only. Set by the gateway for its own security events. */
  audience?: 'admin'
  /**
   * Set by the gateway alone on the events every instance acts on (a revocation closes sockets).
   * The HTTP schemas have no such field, so no publisher can forge one.
   */
  control?: ControlKind
}

/** An event before the bus gives it its id: ids are assigned in publish order, by the log. */
export type EventDraft = Omit<GatewayEvent, 'id'>

/** The gateway's own control events. */
export type ControlKind = 'revocation'

/** What a publisher sends; the gateway assigns `id` and `timestamp`. */
export interface EventInput {
  type: string
  /** A retry with the same key (per publisher) within the idempotency window gets the first id back. */
  idempotencyKey?: string
  userId?: string
  sessionId?: string
  groups?: string[]
  sender?: string
  data?: Record<string, unknown>
  audience?: 'admin'
  control?: ControlKind
}

/** The longest user or session id accepted, in events and in tokens. */
export const MAX_USER_OR_SESSION_ID_LENGTH = 256

/**
 * How deeply a published `data` may nest objects and arrays, `data` itself being level 1. The
 * gateway serializes `data` with JSON.stringify, which recurses: a 1 MiB body holds 500,000
 * levels of `[`, and a few thousand overflow the stack. No real event needs more than a handful.
 */
export const MAX_DATA_DEPTH = 32

/** Namespaces only `/ws/admin` connections ever receive. */
const ADMIN_NAMESPACES: ReadonlySet<string> = new Set(['admin'])

export function namespaceOf (type: string): string {
  const dot = type.indexOf('.')
  return dot === -1 ? type : type.slice(0, dot)
}

export function isAdminOnly (type: string): boolean {
  return ADMIN_NAMESPACES.has(namespaceOf(type))
}

export function createDraft (input: EventInput, now: Date = new Date()): EventDraft {
  return {
    type: input.type,
    ...(input.userId === undefined ? {} : { userId: input.userId }),
    ...(input.sessionId === undefined ? {} : { sessionId: input.sessionId }),
    ...(input.groups === undefined ? {} : { groups: input.groups }),
    ...(input.sender === undefined ? {} : { sender: input.sender }),
    data: input.data ?? {},
    timestamp: now.toISOString(),
    ...(input.audience === undefined ? {} : { audience: input.audience }),
    ...(input.control === undefined ? {} : { control: input.control })
  }
}

/**
 * True when `value` nests objects and arrays more than `maxDepth` levels deep. A loop over a
 * stack of its own, not a recursion: the value may be deeper than the call stack allows.
 */
export function nestsDeeperThan (value: unknown, maxDepth: number): boolean {
  const values: unknown[] = [value]
  const depths: number[] = [1]
  while (values.length > 0) {
    const current = values.pop()
    const depth = depths.pop() ?? 0
    if (typeof current !== 'object' || current === null) continue
    if (depth > maxDepth) return true
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child !== 'object' || child === null) continue
      values.push(child)
      depths.push(depth + 1)
    }
  }
  return false
}

/**
 * Why a published `data` is refused, or undefined: EVENT_MAX_DATA_BYTES (`maxBytes`) of JSON as
 * the gateway serializes it (escapes and spacing in the request do not count), checked after
 * MAX_DATA_DEPTH, since serializing a deeper value would overflow the stack. The body limit
 * alone would let one 1 MiB `data` be written to every subscriber's socket.
 */
export function dataProblem (data: object, field: string, maxBytes: number): string | undefined {
  if (nestsDeeperThan(data, MAX_DATA_DEPTH)) return `${field} must nest objects and arrays at most ${MAX_DATA_DEPTH} levels deep`
  const bytes = Buffer.byteLength(JSON.stringify(data))
  return bytes > maxBytes ? `${field} must be at most ${maxBytes} bytes of JSON (got ${bytes})` : undefined
}

/** Checks the shape of an event that arrived from the bus, where another process wrote it. */
export function isGatewayEvent (value: unknown): value is GatewayEvent {
  if (typeof value !== 'object' || value === null) return false
  const e = value as Record<string, unknown>
  return typeof e.id === 'string' &&
    typeof e.type === 'string' && isEventType(e.type) &&
    typeof e.timestamp === 'string' &&
    typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data) &&
    (e.userId === undefined || isId(e.userId)) &&
    (e.sessionId === undefined || isId(e.sessionId)) &&
    (e.groups === undefined || isGroups(e.groups)) &&
    (e.sender === undefined || isId(e.sender)) &&
    (e.audience === undefined || e.audience === 'admin') &&
    (e.control === undefined || e.control === 'revocation')
}

function isGroups (value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.length <= MAX_GROUPS_PER_EVENT && value.every(isRoomName)
}

function isId (value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_USER_OR_SESSION_ID_LENGTH
}

/**
 * The JSON text of the event a draft becomes once it has an id, built from the draft's own
 * JSON so the event is serialized once: `id` goes first, then the draft's fields.
 */
export function eventJson (id: string, draftJson: string): string {
  return `{"id":${JSON.stringify(id)},${draftJson.slice(1)}`
}
