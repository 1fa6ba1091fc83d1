/** One variable that does not do, and why, in words. */
export interface ConfigProblem {
  variable: string
  message: string
}

/** Every bad variable at once, one a line: fixing them one start at a time wastes an afternoon. */
export class ConfigError extends Error {
  /** The first bad variable. */
  readonly variable: string
  readonly problems: readonly ConfigProblem[]

  constructor (variable: string, message: string, others: readonly ConfigProblem[] = []) {
    const problems = [{ variable, message }, ...others]
    super(problems.map((problem) => `${problem.variable}: ${problem.message}`).join('\n'))
    this.name = 'ConfigError'
    this.variable = variable
    this.problems = problems
  }
}

/**
 * Builds the configuration with `check` around each check across variables, and throws one
 * ConfigError with the schema's problems and theirs. A failed check's value is never read:
 * the whole configuration is refused then.
 */
export function collecting<T> (problems: ConfigProblem[], build: (check: <R>(resolve: () => R) => R) => T): T {
  const check = <R>(resolve: () => R): R => {
    try {
      return resolve()
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      for (const problem of err.problems) if (!problems.some((p) => p.variable === problem.variable)) problems.push(problem)
      return undefined as R
    }
  }
  const config = build(check)
  const [first, ...others] = problems
  if (first !== undefined) throw new ConfigError(first.variable, first.message, others)
  return config
}
