import { readFileSync } from 'node:fs'
import t from 'tap'
import { EnvSchema, loadConfig } from '../../src/config.js'

interface Entry {
  variable: string
  value: string
  commented: boolean
  /** The line above the assignment, which says what the variable is for. */
  comment: string
}

/** `NAME=value` and `# NAME=value` lines of .env.example, each with the line above it. */
function entries (text: string): Entry[] {
  const lines = text.split('\n')
  return lines.flatMap((line, index) => {
    const match = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
    if (match === null) return []
    return [{ variable: match[2] ?? '', value: match[3] ?? '', commented: match[1] !== undefined, comment: lines[index - 1] ?? '' }]
  })
}

const listed = entries(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'))
const schema = EnvSchema.properties as Record<string, { default?: unknown }>

t.test('.env.example lists every variable the config schema reads, each once', async (t) => {
  const variables = listed.map((e) => e.variable)
  t.same([...variables].sort(), Object.keys(schema).sort())
  t.equal(new Set(variables).size, variables.length, 'no variable twice')
})

t.test('an uncommented value is the schema default; a variable without one is commented out and empty', async (t) => {
  for (const { variable, value, commented } of listed) {
    const fallback = schema[variable]?.default
    if (commented) {
      t.equal(value, '', `${variable} is left empty`)
    } else {
      t.not(fallback, undefined, `${variable} has a default to show`)
      t.equal(value, String(fallback), `${variable} shows its default`)
    }
  }
})

t.test('every variable has a comment line above it', async (t) => {
  for (const { variable, comment } of listed) t.match(comment, /^# \S/, variable)
})

t.test('the uncommented values load as the defaults do', async (t) => {
  const env = Object.fromEntries(listed.filter((e) => !e.commented).map((e) => [e.variable, e.value]))
  const { serverId: _a, ...fromFile } = loadConfig(env)
  const { serverId: _b, ...fromNothing } = loadConfig({})
  t.same(fromFile, fromNothing)
})
