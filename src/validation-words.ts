import { ROOM_NAME_RULE, ROOM_NAME_SOURCE } from './wire/rooms.js'
import { EVENT_TYPE_RULE, EVENT_TYPE_SOURCE } from './wire/topics.js'

/** One error of the schema validator, as Fastify hands it over. */
export interface ValidationIssue {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/** The idempotency key's pattern, in the body and the `Idempotency-Key` header alike. */
export const IDEMPOTENCY_KEY_SOURCE = '^[\\x21-\\x7e]+$'

/**
 * Each pattern a request body or header is checked against, in words and with an example: a
 * regular expression tells the sender nothing. A pattern missing here is reported without its
 * source, so none ever leaks into an answer.
 */
const PATTERN_RULES: Record<string, string> = {
  [EVENT_TYPE_SOURCE]: EVENT_TYPE_RULE,
  [ROOM_NAME_SOURCE]: ROOM_NAME_RULE,
  [IDEMPOTENCY_KEY_SOURCE]: '1 to 128 printable ASCII characters without spaces, e.g. order-42-created'
}

/** A request the schema refused, said as `{field} {rule}`, and the field as a dotted path. */
export function describeInvalid (issues: readonly ValidationIssue[]): { field: string, message: string } {
  const [issue] = issues
  if (issue === undefined) return { field: '', message: 'body is invalid' }
  const field = fieldOf(issue)
  return { field, message: `${field === '' ? 'body' : field} ${ruleOf(issue, issues)}` }
}

function ruleOf (issue: ValidationIssue, issues: readonly ValidationIssue[]): string {
  switch (issue.keyword) {
    case 'additionalProperties': return 'is not a known property'
    case 'required': return 'is required'
    case 'pattern': return `must be ${PATTERN_RULES[String(issue.params.pattern)] ?? 'in the documented form (see /docs)'}`
    case 'const':
    case 'enum':
    case 'anyOf': return `must be one of ${allowedValues(issue, issues).join(', ')}`
    case 'type': return `must be ${article(String(issue.params.type))}`
    default: return issue.message ?? 'is invalid'
  }
}

/**
 * The values a field may take. A union of literals fails as one `const` error per literal,
 * then `anyOf`: all of them at the field's path together are the list.
 */
function allowedValues (issue: ValidationIssue, issues: readonly ValidationIssue[]): string[] {
  const values = issues
    .filter((other) => other.instancePath === issue.instancePath)
    .flatMap((other) => other.keyword === 'const' ? [other.params.allowedValue] : other.keyword === 'enum' ? other.params.allowedValues as unknown[] : [])
  return values.map((value) => String(value))
}

function article (type: string): string {
  return type === 'object' || type === 'array' || type === 'integer' ? `an ${type}` : `a ${type}`
}

/** The offending field as a dotted path (`events.0.type`), naming a missing or unknown property too. */
function fieldOf (issue: ValidationIssue): string {
  const path = issue.instancePath.split('/').filter((p) => p !== '')
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty
  if (typeof extra === 'string') path.push(extra)
  return path.join('.')
}
