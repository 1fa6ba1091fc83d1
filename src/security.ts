import type { Bus } from './bus/bus.js'
import { createDraft } from './events.js'
import type { Log } from './logging.js'
import { TokenBucket } from './token-bucket.js'

/** The gateway's own audit events; admins see them live on /ws/admin, users never do. */
export type SecurityEventType =
  | 'security.auth.succeeded'
  | 'security.auth.failed'
  | 'security.rate_limit.exceeded'
  | 'security.origin.rejected'
  | 'security.subscription.forbidden'
  /** A session or user was revoked (`POST /sessions/:id/revoke`, `POST /users/:id/revoke`). */
  | 'security.session.revoked'
  /** A socket was closed, or refused at its session, because a revocation covers it. */
  | 'security.connection.revoked'

export interface SecurityDetails {
  reason: string
  userId?: string | undefined
  sessionId?: string | undefined
  ip?: string | undefined
  userAgent?: string | undefined
  [detail: string]: unknown
}

/**
 * Writes one audit record per security-relevant fact, and publishes it as an admin-only
 * event. Publishing is rate-limited per instance and per event type, so a flood of failed
 * logins cannot amplify into the bus, nor a storm of successful connections crowd failures
 * out; the next event of a type that goes out says how many of it were suppressed before it.
 */
export class SecurityReporter {
  private readonly limits = new Map<SecurityEventType, { bucket: TokenBucket, suppressed: number }>()
  private readonly listeners: Array<(type: SecurityEventType, details: SecurityDetails) => void> = []

  constructor (private readonly bus: Bus, private readonly log: Log, private readonly serverId: string, private readonly perSecond: number) {}

  /** Sees every report, suppressed ones included: metrics count what happened, not what was published. */
  onReport (listener: (type: SecurityEventType, details: SecurityDetails) => void): void {
    this.listeners.push(listener)
  }

  report (type: SecurityEventType, details: SecurityDetails): void {
    for (const listener of this.listeners) listener(type, details)
    const record = { audit: type, ...details }
    if (type === 'security.auth.succeeded') this.log.info(record, type)
    else this.log.warn(record, type)
    const limit = this.limitOf(type)
    if (!limit.bucket.take()) {
      limit.suppressed++
      return
    }
    const data: Record<string, unknown> = { ...details, serverId: this.serverId }
    if (limit.suppressed > 0) data.suppressed = limit.suppressed
    limit.suppressed = 0
    this.bus.publish([createDraft({ type, data, audience: 'admin' })]).catch((err: unknown) => {
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
