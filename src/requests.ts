import type { Connection } from './connection.js'
import { ProtocolError } from './errors.js'
import { isAdminOnly } from './events.js'
import type { Hub } from './hub.js'
import { type Fault, isFault } from './protocol.js'
import { positionFor, resume, type ResumeOutcome } from './resume.js'
import { type RoomRequestContext, roomRequests } from './room-requests.js'
import type { ReauthenticateType, ReplyType, RequestType } from './wire/frames.js'
import { parsePosition, type Position } from './wire/position.js'
import { within } from './within.js'
import { patternError } from './wire/topics.js'

export interface RequestContext extends RoomRequestContext {
  hub: Hub
  maxSubscriptions: number
  /** WEBSOCKET_MAX_PATTERN_LENGTH */
  maxPatternLength: number
  /** Called once per `subscribe` with `since` answered, with how it went (metrics count them). */
  onResumed?: (outcome: ResumeOutcome) => void
}

export interface Reply {
  type: ReplyType
  payload: Record<string, unknown>
  /** Runs right after the reply is sent (a resume's replayed events follow its reply). */
  after?: () => void
}

type RequestHandler = (ctx: RequestContext, connection: Connection, payload: Record<string, unknown>) => Reply | Fault | Promise<Reply | Fault>

/** Longest pattern quoted back in an error, so a hostile pattern is not echoed whole. */
const QUOTE_LIMIT = 64
/**
 * How long a `subscribe` waits for this instance to stand somewhere in the partitions the
 * connection reads (one Redis round trip, unless Redis is unreachable).
 */
const READ_WAIT_MS = 5000

const UNREADABLE: Fault = { code: ProtocolError.HISTORY_UNAVAILABLE, message: 'the event history is unreachable; subscribe again shortly' }

/**
 * Client request types and their handlers; each reply echoes the request's `id`. Every request
 * type of the wire has one, but `reauthenticate` (and its other name), which the session runs
 * itself.
 */
export const requestHandlers: Record<string, RequestHandler> = {
  subscribe (ctx, connection, payload) {
    const patterns = readPatterns(payload, ctx.maxPatternLength, ctx.maxSubscriptions)
    if (!Array.isArray(patterns)) return patterns
    const refused = patterns.map((p) => refusal(connection, p)).find((f) => f !== undefined)
    if (refused !== undefined) return refused
    const added = patterns.filter((p) => !connection.patterns.has(p)).length
    if (connection.patterns.size + added > ctx.maxSubscriptions) {
      return { code: ProtocolError.TOO_MANY_SUBSCRIPTIONS, message: `a connection holds at most ${ctx.maxSubscriptions} subscriptions` }
    }
    let since: Position | undefined
    if (payload.since !== undefined) {
      since = parsePosition(payload.since)
      if (since === undefined) return { code: ProtocolError.INVALID_MESSAGE, message: 'payload.since must be a position: an event id such as "1732380000000-0", or one per partition joined by commas' }
    }
    // With the bus down nothing comes live anyway: a plain subscribe is answered at once.
    const answer = connection.reading === undefined || (since === undefined && !ctx.reads.connected)
      ? subscribed(ctx, connection, patterns, since)
      : within(connection.reading, READ_WAIT_MS).then((ready) => ready || since === undefined ? subscribed(ctx, connection, patterns, since) : UNREADABLE)
    return since === undefined ? answer : counted(ctx, connection, answer)
  },

  unsubscribe (ctx, connection, payload) {
    const patterns = readPatterns(payload, ctx.maxPatternLength, ctx.maxSubscriptions)
    if (!Array.isArray(patterns)) return patterns
    ctx.hub.unsubscribe(connection, patterns)
    return { type: 'unsubscribed', payload: { eventTypes: patterns } }
  },

  get_subscriptions (_ctx, connection) {
    return { type: 'subscriptions', payload: { eventTypes: [...connection.patterns] } }
  },

  ping () {
    return { type: 'pong', payload: { serverTime: new Date().toISOString() } }
  },

  heartbeat () {
    return { type: 'heartbeat_response', payload: { serverTime: new Date().toISOString() } }
  },

  ...roomRequests
} satisfies Record<Exclude<RequestType, ReauthenticateType>, RequestHandler>

/** Whether a request type is one of the token swap's names, which the session runs itself. */
export function isReauthenticate (type: string): boolean {
  return type === 'reauthenticate' || type === 're-authenticate'
}

function subscribed (ctx: RequestContext, connection: Connection, patterns: string[], since: Position | undefined): Reply | Fault | Promise<Reply | Fault> {
  if (since !== undefined) return resume(ctx, connection, patterns, since)
  ctx.hub.subscribe(connection, patterns)
  // Where a client that has received no event yet resumes from: every event after it is
  // delivered to the connection live, from now on.
  const position = positionFor(ctx, connection)
  return { type: 'subscribed', payload: position === undefined ? { eventTypes: patterns } : { eventTypes: patterns, position } }
}

/**
 * A resume's answer, counted by outcome once it is known. Not when the socket closed first:
 * nobody is there to read it, and a client that gave up is no failed reconnection.
 */
async function counted (ctx: RequestContext, connection: Connection, answer: Reply | Fault | Promise<Reply | Fault>): Promise<Reply | Fault> {
  const settled = await answer
  if (connection.open) ctx.onResumed?.(resumeOutcome(settled))
  return settled
}

function resumeOutcome (answer: Reply | Fault): ResumeOutcome {
  if (isFault(answer)) return 'unavailable'
  return answer.payload.truncated === true ? 'truncated' : 'resumed'
}

/**
 * The distinct strings of `payload.eventTypes`, or the fault that says what is wrong with it.
 * A list longer than a connection may hold is refused on its length alone, before any pattern
 * is read: a frame of 100,000 patterns would otherwise be validated one by one to no end.
 */
function readPatterns (payload: Record<string, unknown>, maxLength: number, maxCount: number): string[] | Fault {
  const { eventTypes } = payload
  if (!Array.isArray(eventTypes) || eventTypes.length === 0) {
    return { code: ProtocolError.INVALID_MESSAGE, message: 'payload.eventTypes must be a non-empty array of patterns' }
  }
  if (eventTypes.length > maxCount) {
    return { code: ProtocolError.TOO_MANY_SUBSCRIPTIONS, message: `a request lists at most ${maxCount} patterns` }
  }
  for (const pattern of eventTypes) {
    const problem = patternError(pattern, maxLength)
    if (problem !== undefined) {
      return { code: ProtocolError.INVALID_PATTERN, message: `${quote(pattern)}: ${problem}` }
    }
  }
  return [...new Set(eventTypes as string[])]
}

/** Admin-only namespaces are delivered only on /ws/admin, so a user stream may not ask for them. */
function refusal (connection: Connection, pattern: string): Fault | undefined {
  if (connection.stream === 'admin' || !isAdminOnly(pattern)) return undefined
  return { code: ProtocolError.FORBIDDEN, message: `"${pattern}": admin.* events are only delivered on /ws/admin` }
}

function quote (value: unknown): string {
  const text = typeof value === 'string' ? value : jsonText(value)
  return JSON.stringify(text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text)
}

/**
 * A client's value as JSON text. JSON.parse accepts nesting far deeper than JSON.stringify
 * can recurse (20,000 `[` fit in one frame), so a too-deep value is named, not serialized.
 */
function jsonText (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Array.isArray(value) ? '[…]' : '{…}'
  }
}
