import type { GatewayEvent } from '../src/client/index.js'

/** Namespaces only admins receive, whatever the event names as its user (the gateway's `isAdminOnly`). */
const ADMIN_NAMESPACES = new Set(['admin'])

const text = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

export const namespaceOf = (type: string): string => type.split('.', 1)[0] ?? type

/** The address an event is about: audit events and most publishers call it `ip`. */
export const addressOf = (event: GatewayEvent): string | undefined =>
  text(event.data.ip) ?? text(event.data.address) ?? text(event.data.remoteAddress)

/** The user an event is about: its addressee, else the one its data names (audit events), else its sender. */
export const subjectOf = (event: GatewayEvent): string | undefined =>
  event.userId ?? text(event.data.userId) ?? text(event.data.user) ?? text(event.data.sub) ?? event.sender

export const reasonOf = (event: GatewayEvent): string | undefined => text(event.data.reason)

/** Who an event was delivered to: its user and its rooms (`#room`), else admins or everyone. */
export function audienceOf (event: GatewayEvent): string {
  if (event.audience === 'admin' || ADMIN_NAMESPACES.has(namespaceOf(event.type))) return event.userId === undefined ? 'admins' : `admins · ${event.userId}`
  const targets = [...(event.userId === undefined ? [] : [event.userId]), ...(event.groups ?? []).map((room) => `#${room}`)]
  return targets.length > 0 ? targets.join(' ') : 'broadcast'
}

/** A failed authentication, the gateway's or a publisher's: what the offenders panel counts. */
export function isAuthFailure (event: GatewayEvent): boolean {
  const { type } = event
  if (type === 'security.auth.failed') return true
  return type.startsWith('authentication.') && /(^|[._])(failed|failure|denied|invalid)($|[._])/.test(type)
}

/** A lockout: the gateway blocking an address for its failures, or a publisher locking an account. */
export function isLockout (event: GatewayEvent): boolean {
  if (event.type === 'security.rate_limit.exceeded') return event.data.reason === 'auth_failures'
  return /(^|[._])(locked|lockout|blocked)($|[._])/.test(event.type)
}

/**
 * How many reports one event stands for: a summary of held-back repeats counts them
 * (`repeated`), an event after suppressed ones counts those too.
 */
export function weightOf (event: GatewayEvent): number {
  const { repeated, suppressed } = event.data
  if (event.data.reason === 'repeated' && typeof repeated === 'number' && repeated > 0) return repeated
  return 1 + (typeof suppressed === 'number' && suppressed > 0 ? suppressed : 0)
}
