/**
 * The grammar of event types and of the patterns that subscribe to them, shared by the gateway
 * (which validates both) and the SDK (which routes events to its handlers by the same rules).
 *
 * Event types are dot-separated lower-case segments, `authentication.login.success`.
 * A segment starts with a letter or digit and may hold `_` and `-` after it.
 */
const SEGMENT_SOURCE = '[a-z0-9][a-z0-9_-]*'
/** Long enough for any real event name, short enough to keep the trie shallow. */
export const MAX_EVENT_TYPE_LENGTH = 128
const MAX_SEGMENTS = 8
export const EVENT_TYPE_SOURCE = `^${SEGMENT_SOURCE}(?:\\.${SEGMENT_SOURCE}){0,${MAX_SEGMENTS - 1}}$`
const EVENT_TYPE = new RegExp(EVENT_TYPE_SOURCE)
/** The grammar of event types in words, with examples, for whoever sends one that breaks it. */
export const EVENT_TYPE_RULE = `an event type: 1 to ${MAX_SEGMENTS} dot-separated segments of lower-case letters, digits, _ and -, each starting with a letter or digit, at most ${MAX_EVENT_TYPE_LENGTH} characters, e.g. authentication.login.success or order.created`

export function isEventType (value: string): boolean {
  return value.length <= MAX_EVENT_TYPE_LENGTH && EVENT_TYPE.test(value)
}

/**
 * Pattern grammar: dot-separated segments as in event types, where a segment may be `*`.
 * `*` matches exactly one segment, except as the last segment, where it matches one or
 * more: `authentication.*` covers `authentication.logout` and `authentication.login.success`,
 * and `*` alone covers every event type. `PatternTrie` matches by these rules.
 */
const PATTERN = new RegExp(`^(?:${SEGMENT_SOURCE}|\\*)(?:\\.(?:${SEGMENT_SOURCE}|\\*))*$`)

/**
 * Why `pattern` is refused, or undefined. `maxLength` is WEBSOCKET_MAX_PATTERN_LENGTH; it is
 * checked before the grammar so a hostile string is never run through the regular expression.
 */
export function patternError (pattern: unknown, maxLength: number): string | undefined {
  if (typeof pattern !== 'string') return 'a pattern must be a string'
  if (pattern.length === 0) return 'a pattern must not be empty'
  if (pattern.length > maxLength) return `a pattern must be at most ${maxLength} characters`
  if (!PATTERN.test(pattern)) return 'a pattern is dot-separated segments of lower-case letters, digits, _ and -, or *, e.g. authentication.* or order.*.created'
  if (pattern.split('.').length > MAX_SEGMENTS) return `a pattern has at most ${MAX_SEGMENTS} segments`
  return undefined
}
