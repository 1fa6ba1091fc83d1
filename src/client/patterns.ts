/**
 * Whether an event type matches a subscription pattern, by the gateway's grammar: a `*`
 * segment matches exactly one segment, except as the last segment, where it matches one or
 * more. The server decides what reaches the socket; this only routes an event to the handlers
 * of the patterns it matches.
 */
export function patternMatches (pattern: string, type: string): boolean {
  const wanted = pattern.split('.')
  const actual = type.split('.')
  const last = wanted.length - 1
  for (let i = 0; i <= last; i++) {
    if (i === last && wanted[i] === '*') return actual.length > last
    if (i >= actual.length || (wanted[i] !== '*' && wanted[i] !== actual[i])) return false
  }
  return actual.length === wanted.length
}
