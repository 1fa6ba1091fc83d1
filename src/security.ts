import type { Bus } from './bus/bus.js'
import { createDraft } from './events.js'
import type { Log } from './logging.js'
import { type RepeatOptions, type RepeatSource, type RepeatSummary, RepeatThrottle } from './repeat-throttle.js'
import { TokenBucket } from './token-bucket.js'

/**
 * The gateway's own security events: each is also an audit record in the log. Admins see them
 * live on /ws/admin, users never do.
 */
export type SecurityEventType =
  /** An audit line only: every publish and stats poll authenticates, and would drown the stream. */
  | 'security.auth.succeeded'
  | 'security.auth.failed'
  | 'security.rate_limit.exceeded'
  | 'security.origin.rejected'
  | 'security.subscription.forbidden'
  /** A session or user was revoked (`POST /sessions/:id/revoke`, `POST /users/:id/revoke`). */
  | 'security.session.revoked'
  /** A socket was closed, or refused at its session, because a revocation covers it. */
  | 'security.connection.revoked'
  | LifecycleEventType

/**
 * The gateway's own lifecycle events: a user's reach that user's streams and the admins', an
 * instance's (`system.*`) the admins' only.
 */
export type LifecycleEventType =
  /** A socket authenticated and opened. */
  | 'session.created'
  /** A socket closed 4001 at its token's `exp`. */
  | 'session.expired'
  /** A socket refused 4008: the user holds MAX_CONNECTIONS_PER_USER already. */
  | 'session.concurrent_limit'
  /** A successful `reauthenticate`. */
  | 'authentication.token.refresh'
  | 'system.instance.started'
  | 'system.instance.draining'
  /** Published when Redis is back, beside `system.redis.recovered`: no event goes out without it. */
  | 'system.redis.lost'
  | 'system.redis.recovered'

export interface SecurityDetails {
  reason: string
  userId?: string | undefined
  sessionId?: string | undefined
  ip?: string | undefined
  userAgent?: string | undefined
  [detail: string]: unknown
}

/**
 * The longest text from a request (user agent, origin, path, detail) an audit record or a
 * request log line carries: enough to recognise a client, too little for a flood of 8 KB
 * headers to grow the logs by the request.
 */
export const MAX_AUDIT_TEXT = 256

/** `text` cut to MAX_AUDIT_TEXT characters, the cut marked with `…`. */
export function clip (text: string): string {
  return text.length <= MAX_AUDIT_TEXT ? text : `${text.slice(0, MAX_AUDIT_TEXT - 1)}…`
}

/**
 * The refusals, which anyone can provoke at will; successes and revocations stay one record
 * each, whatever their number: the audit trail of who got in must be whole.
 */
const REFUSALS: ReadonlySet<SecurityEventType> = new Set<SecurityEventType>([
  'security.auth.failed', 'security.rate_limit.exceeded', 'security.origin.rejected',
  'security.subscription.forbidden', 'security.connection.revoked', 'session.concurrent_limit'
])

/** Written to the log at info, not warn: the normal life of the gateway and its sessions. */
const ROUTINE: ReadonlySet<SecurityEventType> = new Set<SecurityEventType>([
  'security.auth.succeeded', 'session.created', 'session.expired', 'authentication.token.refresh',
  'system.instance.started', 'system.redis.recovered'
])

/** Audit records that are never published. */
const LOG_ONLY: ReadonlySet<SecurityEventType> = new Set<SecurityEventType>(['security.auth.succeeded'])

/** Who sees a type's events beside the admins: `security.*` and `system.*` go to admins alone. */
function audienceOf (type: SecurityEventType): 'admin' | 'user' {
  return type.startsWith('security.') || type.startsWith('system.') ? 'admin' : 'user'
}

/** Sources tracked for repeated refusals; past it new sources share one window per type. */
const MAX_SOURCES = 1000

/** AUDIT_REPEAT_WINDOW and AUDIT_REPEAT_BURST. */
export type RepeatLimits = Omit<RepeatOptions, 'maxSources'>

const DEFAULT_REPEATS: RepeatLimits = { windowMs: 10_000, burst: 5 }

/**
 * Writes one audit record per security-relevant or lifecycle fact, and publishes it as a
 * live-only event, to admins and, for a user's session, to that user: never in the history clients resume from, so refused strangers cannot push
 * their events out. Two limits keep an attack from amplifying itself. Per refusal type and
 * source (address, else user), the first `burst` reports of a window are written and published
 * and the rest counted, then summarised once ("N more … from …"). Per type, at most `perSecond`
 * events are published; the next one that goes out says how many reports were left out
 * (`suppressed`, a summary standing for the reports it counts).
 */
export class SecurityReporter {
  private readonly limits = new Map<SecurityEventType, { bucket: TokenBucket, suppressed: number }>()
  private readonly listeners: Array<(type: SecurityEventType, details: SecurityDetails) => void> = []
  private readonly repeats: RepeatThrottle<SecurityEventType>
  private readonly sweeper: NodeJS.Timeout

  /** `perSecond` is SECURITY_EVENTS_PER_SECOND, events of each type published per second. */
  constructor (private readonly bus: Bus, private readonly log: Log, private readonly serverId: string, private readonly perSecond: number, repeats: RepeatLimits = DEFAULT_REPEATS) {
    this.repeats = new RepeatThrottle({ ...repeats, maxSources: MAX_SOURCES }, (summary) => { this.summarise(summary) })
    this.sweeper = setInterval(() => { this.repeats.sweep() }, repeats.windowMs).unref()
  }

  /** Sees every report, held back or not: metrics count what happened, not what was written. */
  onReport (listener: (type: SecurityEventType, details: SecurityDetails) => void): void {
    this.listeners.push(listener)
  }

  report (type: SecurityEventType, details: SecurityDetails): void {
    for (const listener of this.listeners) listener(type, details)
    if (REFUSALS.has(type) && !this.repeats.admit(type, sourceOf(details))) return
    const clipped = clipDetails(details)
    this.write(type, { audit: type, ...clipped }, type)
    if (!LOG_ONLY.has(type)) this.publish(type, clipped, 1)
  }

  /** Writes the summaries of the windows still open: at shutdown, so no count is lost. */
  close (): void {
    clearInterval(this.sweeper)
    this.repeats.sweep(Date.now(), true)
  }

  private summarise ({ type, source, count, elapsedMs }: RepeatSummary<SecurityEventType>): void {
    const from = source === undefined ? 'other sources' : clip(source.ip ?? source.userId ?? 'an unknown source')
    const fields = { reason: 'repeated', repeated: count, periodMs: elapsedMs, ...(source === undefined ? { otherSources: true } : clipDetails(source)) }
    this.write(type, { audit: type, ...fields }, `${count} more ${type} from ${from} in the last ${Math.max(1, Math.round(elapsedMs / 1000))} s`)
    this.publish(type, fields, count)
  }

  private write (type: SecurityEventType, record: Record<string, unknown>, message: string): void {
    if (ROUTINE.has(type)) this.log.info(record, message)
    else this.log.warn(record, message)
  }

  /** Publishes unless the type's budget is spent; `reports` is how many reports the event stands for. */
  private publish (type: SecurityEventType, details: Record<string, unknown>, reports: number): void {
    const limit = this.limitOf(type)
    if (!limit.bucket.take()) {
      limit.suppressed += reports
      return
    }
    const data: Record<string, unknown> = { ...details, serverId: this.serverId }
    if (limit.suppressed > 0) data.suppressed = limit.suppressed
    limit.suppressed = 0
    const { userId } = details
    const draft = audienceOf(type) === 'user' && typeof userId === 'string'
      ? createDraft({ type, data, userId })
      : createDraft({ type, data, audience: 'admin' })
    this.bus.publishLive(draft).catch((err: unknown) => {
      this.log.debug({ err, type }, 'security event not published')
    })
  }

  private limitOf (type: SecurityEventType): { bucket: TokenBucket, suppressed: number } {
    let limit = this.limits.get(type)
    if (limit === undefined) {
      limit = { bucket: new TokenBucket(Math.max(1, this.perSecond), this.perSecond), suppressed: 0 }
      this.limits.set(type, limit)
    }
    return limit
  }
}

/** Who a refusal comes from: its address, else its user. */
function sourceOf (details: SecurityDetails): RepeatSource {
  return details.ip === undefined ? { userId: details.userId } : { ip: details.ip }
}

/** The details with every string cut by `clip`: most come from the request, so from anyone. */
function clipDetails<D extends object> (details: D): D {
  const clipped: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(details)) clipped[name] = typeof value === 'string' ? clip(value) : value
  return clipped as D
}
