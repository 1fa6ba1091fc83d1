/**
 * How loudly an event is drawn. Severity comes from what happened, not from the namespace: a
 * `security.*` success is routine, and a page of them in alarm red hides the one that matters.
 */
export type Severity = 'alert' | 'warn' | 'ok' | 'info'

/** Words of a type or `reason` that mean something was refused, lost or taken away. */
const ALERT = new Set(['failed', 'failure', 'fail', 'denied', 'blocked', 'block', 'locked', 'lockout', 'revoked', 'forbidden', 'rejected', 'exceeded', 'bruteforce', 'invalid', 'lost', 'error', 'unauthorized'])
const WARN = new Set(['expired', 'concurrent', 'limit', 'draining', 'repeated', 'warning', 'suspicious', 'retry'])
const OK = new Set(['success', 'succeeded', 'created', 'recovered', 'started', 'connected', 'refresh', 'reachable', 'valid'])

function words (text: string): string[] {
  return text.toLowerCase().split(/[._\-\s]+/)
}

/** The severity of an event from its type's words, then its `data.reason`: the worst word wins. */
export function severityOf (type: string, reason?: unknown): Severity {
  const all = [...words(type), ...(typeof reason === 'string' ? words(reason) : [])]
  if (all.some((w) => ALERT.has(w))) return 'alert'
  if (all.some((w) => WARN.has(w))) return 'warn'
  if (all.some((w) => OK.has(w))) return 'ok'
  return 'info'
}
