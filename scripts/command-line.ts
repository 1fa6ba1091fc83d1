import { parseArgs, type ParseArgsConfig } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

export interface CommandLine<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O }>>['values']
  /** Refuses the command line: the script's name, `message` and the usage on stderr, exit 2. */
  fail: (message: string) => never
  /** The option as an integer from `min` to `max`, or `fail`. */
  integer: (option: keyof O & string, min: number, max?: number) => number
  /**
   * One value given under either of two names (`--user` and `--sub`): scripts that take a user
   * take both, so whichever a user learnt works everywhere. Two different values are refused.
   */
  either: (name: keyof O & string, alias: keyof O & string) => string | undefined
}

/**
 * A script's command line, read the one way every script reads it: `options` parsed strictly
 * (an unknown option or a stray argument stops the script), `-h`/`--help` printing `help` and
 * exiting 0, and every refusal written and exited alike, with the usage: whoever typed it wrong
 * sees at once what was meant, and never a stack trace.
 */
export function commandLine<const O extends Options> (name: string, help: string, options: O): CommandLine<O> {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n\n${help}\n`)
    process.exit(2)
  }
  const withHelp: Options = { ...options, help: { type: 'boolean', short: 'h', default: false } }
  let values: ReturnType<typeof parseArgs<{ options: Options }>>['values']
  try {
    values = parseArgs({ options: withHelp }).values
  } catch (err) {
    return fail((err as Error).message)
  }
  if (values.help === true) {
    process.stdout.write(`${help}\n`)
    process.exit(0)
  }
  const integer = (option: keyof O & string, min: number, max?: number): number => {
    const n = Number(values[option])
    if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
      fail(`--${option} must be an integer ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}`)
    }
    return n
  }
  const either = (option: keyof O & string, alias: keyof O & string): string | undefined => {
    const [a, b] = [values[option], values[alias]] as Array<string | undefined>
    if (a !== undefined && b !== undefined && a !== b) fail(`--${option} and --${alias} are one option: give it once`)
    return a ?? b
  }
  return { values: values as CommandLine<O>['values'], fail, integer, either }
}

/**
 * An environment variable as the gateway reads it (src/config.ts): trimmed, and unset when
 * empty, so `JWT_SECRET=` in a .env file means no secret here as it does there.
 */
export function envValue (name: string): string | undefined {
  const value = process.env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}
