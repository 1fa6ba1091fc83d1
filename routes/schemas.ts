import { type Static, Type } from '@sinclair/typebox'
import { GatewayError } from '../src/errors.js'
import { dataProblem, MAX_DATA_DEPTH, MAX_USER_OR_SESSION_ID_LENGTH } from '../src/events.js'
import { NOTIFICATION_LEVELS, NOTIFICATION_TYPES } from '../src/notification-kind.js'
import { IDEMPOTENCY_KEY_SOURCE } from '../src/validation-words.js'
import { MAX_GROUPS_PER_EVENT, MAX_ROOM_NAME_LENGTH, ROOM_NAME_SOURCE } from '../src/wire/rooms.js'
import { EVENT_TYPE_SOURCE, MAX_EVENT_TYPE_LENGTH } from '../src/wire/topics.js'

/** Publishing limits: a batch carries at most this many events, a body at most this many bytes. */
export const MAX_BATCH = 100
export const BODY_LIMIT_BYTES = 1024 * 1024

export const Id = Type.String({ minLength: 1, maxLength: MAX_USER_OR_SESSION_ID_LENGTH })
const Data = Type.Object({}, { additionalProperties: true })

const roomName = (description?: string) => Type.String({ pattern: ROOM_NAME_SOURCE, maxLength: MAX_ROOM_NAME_LENGTH, ...(description === undefined ? {} : { description }) })

/** Rooms an event or notification goes to (docs/rooms.md): `groups`, or `room` for one. */
const RoomAddress = {
  groups: Type.Optional(Type.Array(roomName(), { minItems: 1, maxItems: MAX_GROUPS_PER_EVENT, description: 'the rooms the event goes to, beside `userId` when both are given' })),
  room: Type.Optional(roomName('one room: the same as `groups: [room]`'))
}

const IdempotencyKey = Type.String({ minLength: 1, maxLength: 128, pattern: IDEMPOTENCY_KEY_SOURCE })

export const EventInput = Type.Object({
  idempotencyKey: Type.Optional(IdempotencyKey),
  type: Type.String({ pattern: EVENT_TYPE_SOURCE, maxLength: MAX_EVENT_TYPE_LENGTH }),
  userId: Type.Optional(Id),
  sessionId: Type.Optional(Id),
  ...RoomAddress,
  data: Type.Optional(Data)
}, { additionalProperties: false })

export const EventBatch = Type.Object({
  events: Type.Array(EventInput, { minItems: 1, maxItems: MAX_BATCH })
}, { additionalProperties: false })

/**
 * One event or `{ events: [...] }`. Written as if/then/else rather than a union so a bad body
 * is reported against the shape it was meant to have, not as "must match a schema in anyOf".
 */
export const PublishBody = Type.Unsafe<Static<typeof EventInput> | Static<typeof EventBatch>>({
  type: 'object',
  if: { type: 'object', required: ['events'] },
  then: EventBatch,
  else: EventInput
})

/** `level` or `type`, or both if they agree (src/notification-kind.ts): the route checks which. */
export const Notification = Type.Object({
  userId: Type.Optional(Id),
  ...RoomAddress,
  level: Type.Optional(Type.Union(NOTIFICATION_LEVELS.map((l) => Type.Literal(l)))),
  type: Type.Optional(Type.Union(NOTIFICATION_TYPES.map((l) => Type.Literal(l)), { description: 'the design documents\' name for the severity; `error` is level `critical`, `success` level `info`' })),
  title: Type.String({ minLength: 1, maxLength: 200 }),
  message: Type.String({ minLength: 1, maxLength: 4000 }),
  data: Type.Optional(Data)
}, { additionalProperties: false })

export const Accepted = Type.Object({ ids: Type.Array(Type.String()) })

/** The optional `Idempotency-Key` header of the publishing routes. */
export const PublishHeaders = Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) })

export function idempotencyKey (headers: Record<string, unknown>): string | undefined {
  const key = headers['idempotency-key']
  return typeof key === 'string' ? key : undefined
}

/** EVENT_MAX_DATA_BYTES and the nesting depth (dataProblem): a 400 naming the field. */
export function assertDataSize (data: object | undefined, field: string, maxBytes: number): void {
  const problem = data === undefined ? undefined : dataProblem(data, field, maxBytes)
  if (problem !== undefined) throw new GatewayError('EVENTGATE_INVALID_BODY', problem, field)
}

/**
 * The rooms a body names, `room` being `groups: [room]`; both at once is refused, as two
 * spellings of one field that could disagree.
 */
export function groupsOf (body: { groups?: string[] | undefined, room?: string | undefined }, prefix = ''): string[] | undefined {
  if (body.groups !== undefined && body.room !== undefined) throw new GatewayError('EVENTGATE_INVALID_BODY', `${prefix}room and ${prefix}groups name the same thing: give one`, `${prefix}room`)
  if (body.room !== undefined) return [body.room]
  return body.groups === undefined ? undefined : [...new Set(body.groups)]
}

/** Every HTTP error's body (plugins/errors.ts), in the order it is written. */
export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'EVENTGATE_*: see the table in docs/http-api.md' }),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the offending field, as a dotted path (`events.1.type`)' }))
})

const ERRORS = {
  400: `EVENTGATE_INVALID_BODY: the body breaks the schema, or a \`data\` is over EVENT_MAX_DATA_BYTES or nests over ${MAX_DATA_DEPTH} levels`,
  401: 'EVENTGATE_UNAUTHORIZED: no valid token (`token_missing`, `token_invalid`, `token_expired`, `session_revoked`, `token_revoked`)',
  403: 'EVENTGATE_FORBIDDEN: the token lacks the right',
  413: 'EVENTGATE_PAYLOAD_TOO_LARGE: the body is over 1 MiB',
  429: 'EVENTGATE_RATE_LIMITED or EVENTGATE_TOO_MANY_AUTH_FAILURES: retry after `Retry-After` seconds',
  503: 'EVENTGATE_BUS_UNAVAILABLE (Redis unreachable, revocations included) or EVENTGATE_DRAINING (shutting down): retry after `Retry-After` seconds'
} as const

/** Response schemas for the given error statuses: they document the errors, and serialize them. */
export function errorResponses (...statuses: Array<keyof typeof ERRORS>): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((status) => [status, { ...ErrorBody, description: ERRORS[status] }]))
}
