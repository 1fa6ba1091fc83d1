import { parseArgs, type ParseArgsConfig } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

export interface CommandLine<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O }>>['values']
  /** Refuses the command line: the script's name and `message` on stderr, exit 2. */
  fail: (message: string) => never
  /** The option as an integer from `min` to `max`, or `fail`. */
  integer: (option: keyof O & string, min: number, max?: number) => number
}

/**
 * A script's command line, read the one way every script reads it: `options` parsed strictly
 * (an unknown option or a stray argument stops the script), `-h`/`--help` printing `help` and
 * exiting 0, and every refusal written and exited alike.
 */
export function commandLine<const O extends Options> (name: string, help: string, options: O): CommandLine<O> {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n`)
    process.exit(2)
  }
  const withHelp: Options = { ...options, help: { type: 'boolean', short: 'h', default: false } }
  let values: ReturnType<typeof parseArgs<{ options: Options }>>['values']
  try {
    values = parseArgs({ options: withHelp }).values
  } catch (err) {
    return fail(`${(err as Error).message} (--help for usage)`)
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
  return { values: values as CommandLine<O>['values'], fail, integer }
}
