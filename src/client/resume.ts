import { ProtocolError } from '../wire/protocol-errors.js'
import { type BackoffOptions, backoffDelay } from './backoff.js'
import { EventgateError } from './errors.js'
import { readFault, readStrings } from './frames.js'
import type { Link } from './link.js'
import type { Subscriptions } from './subscriptions.js'
import type { ResumedInfo, TruncatedInfo } from './types.js'

/** Refusals of a resume that a later try can overcome, on the same socket. */
const TRANSIENT: ReadonlySet<string> = new Set([ProtocolError.HISTORY_UNAVAILABLE, ProtocolError.INTERNAL_ERROR])

export interface Resumption {
  subscriptions: Subscriptions
  backoff: BackoffOptions
  report: (err: EventgateError) => void
  truncated: (info: TruncatedInfo) => void
  resumed: (info: ResumedInfo) => void
  /** A `subscribed` reply's `position`: where the partitions the client has no entry for start. */
  positioned: (position: unknown) => void
}

/**
 * Subscribes the patterns held before again, in one request with `since`, so the gateway
 * replays what the client missed and the seam to live events has no gap. HISTORY_UNAVAILABLE
 * is retried on the same socket with backoff, keeping the same `since`.
 */
export async function resubscribe (ctx: Resumption, link: Link, patterns: string[], since: string | undefined, tries = 0): Promise<void> {
  const reply = await link.request('subscribe', since === undefined ? { eventTypes: patterns } : { eventTypes: patterns, since })
  if (reply === undefined) return
  if (reply.type === 'subscribed') {
    ctx.subscriptions.accept(readStrings(reply.payload.eventTypes))
    const truncated = reply.payload.truncated === true
    if (since !== undefined && truncated) ctx.truncated({ since, patterns })
    ctx.positioned(reply.payload.position)
    if (since !== undefined) ctx.resumed({ since, replayed: typeof reply.payload.replayed === 'number' ? reply.payload.replayed : 0, truncated })
    return
  }
  const fault = readFault(reply.payload)
  if (!TRANSIENT.has(fault.code)) {
    ctx.report(new EventgateError(fault.code, `resubscribing ${patterns.join(', ')} failed: ${fault.message}`))
    return
  }
  await link.pause(backoffDelay(tries, ctx.backoff))
  await resubscribe(ctx, link, patterns, since, tries + 1)
}

/** A pattern the gateway has not accepted yet; a refusal rejects the `subscribe` calls waiting on it. */
export async function subscribeOn (ctx: Resumption, link: Link, pattern: string): Promise<void> {
  const reply = await link.request('subscribe', { eventTypes: [pattern] })
  // The socket went first: the pattern is sent again on the next one.
  if (reply === undefined) return
  if (reply.type === 'subscribed') {
    ctx.subscriptions.accept(readStrings(reply.payload.eventTypes))
    ctx.positioned(reply.payload.position)
    return
  }
  const fault = readFault(reply.payload)
  // The gateway's message for a malformed pattern already quotes it; others are prefixed with it.
  const named = fault.message.includes(JSON.stringify(pattern)) ? fault.message : `${JSON.stringify(pattern)}: ${fault.message}`
  ctx.subscriptions.refuse([pattern], new EventgateError(fault.code, named))
}
