import type { TSchema } from '@sinclair/typebox'

/**
 * The rules of the variables the schema checks by a pattern, in words and with an example: a
 * regular expression tells someone setting a variable nothing.
 */
const PATTERN_RULES: Record<string, string> = {
  REDIS_URL: 'a URL with the scheme redis:// or rediss:// (TLS), e.g. redis://127.0.0.1:6379 or rediss://user:password@cache.example.com:6380',
  SERVER_ID: '1 to 64 letters, digits, "_", "." or "-", e.g. eg-1',
  METRICS_TOKEN: 'at least 16 visible ASCII characters without spaces, e.g. the output of `openssl rand -hex 24`'
}

/** Examples for strings whose rule is a length: a secret's is how to make one. */
const STRING_EXAMPLES: Record<string, string> = {
  JWT_SECRET: 'the output of `openssl rand -hex 32`',
  MESSAGE_SIGNING_SECRET: 'the output of `openssl rand -hex 32`'
}

/** Variables whose values are or may hold credentials (a URL's password), never echoed in an error. */
export function isSecret (variable: string): boolean {
  return variable.startsWith('JWT_') || variable === 'METRICS_TOKEN' || variable === 'MESSAGE_SIGNING_SECRET' || variable === 'REDIS_PASSWORD' || variable === 'REDIS_URL'
}

/**
 * Why `value` does not do for `variable`: its rule in words, with an example, and the value
 * itself unless it may be a secret.
 */
export function explainInvalid (variable: string, schema: TSchema | undefined, value: unknown): string {
  const got = value === undefined || isSecret(variable) ? '' : ` (got "${String(value)}")`
  return `must be ${schema === undefined ? 'valid' : ruleOf(variable, schema)}${got}`
}

/** A variable's rule as a sentence ends: "one of a, b, c", "a whole number from 1 to 8, e.g. 2". */
export function ruleOf (variable: string, schema: TSchema): string {
  const choices = (schema.anyOf as TSchema[] | undefined)?.map((choice) => String(choice.const))
  if (choices !== undefined) return `one of ${choices.join(', ')}`
  if (schema.type === 'boolean') return 'true or false'
  if (schema.type === 'integer' || schema.type === 'number') return numberRule(schema)
  const pattern = PATTERN_RULES[variable]
  if (pattern !== undefined) return pattern
  if (typeof schema.minLength === 'number' && schema.minLength > 1) {
    const example = STRING_EXAMPLES[variable]
    return `at least ${schema.minLength} characters${example === undefined ? '' : `, e.g. ${example}`}`
  }
  return 'a value that is not empty'
}

function numberRule (schema: TSchema): string {
  const kind = schema.type === 'integer' ? 'a whole number' : 'a number'
  const { minimum, maximum, exclusiveMinimum } = schema as { minimum?: number, maximum?: number, exclusiveMinimum?: number }
  const bounds = minimum !== undefined && maximum !== undefined
    ? ` from ${minimum} to ${maximum}`
    : minimum !== undefined
      ? ` of at least ${minimum}`
      : exclusiveMinimum !== undefined ? ` above ${exclusiveMinimum}` : ''
  const example = (schema.default as number | undefined) ?? minimum ?? maximum
  return `${kind}${bounds}${example === undefined ? '' : `, e.g. ${example}`}`
}
