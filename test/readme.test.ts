import { readFileSync } from 'node:fs'
import t from 'tap'
import { EnvSchema } from '../src/config.js'
import { CloseCode, HttpError, ProtocolError } from '../src/errors.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The first cells of the README's table rows: `| \`CODE\` | ...`. */
const documented = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]))

t.test('every close code of the catalogue has a row in the README', async (t) => {
  for (const [name, code] of Object.entries(CloseCode)) t.ok(documented.has(String(code)), `${name} (${code})`)
})

t.test('every protocol error code has a row in the README', async (t) => {
  for (const code of Object.values(ProtocolError)) t.ok(documented.has(code), code)
})

t.test('every HTTP error code has a row in the README, with its status', async (t) => {
  for (const [code, status] of Object.entries(HttpError)) {
    t.match(readme, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'), code)
  }
})

t.test('every environment variable has a row in the README', async (t) => {
  for (const variable of Object.keys(EnvSchema.properties)) t.ok(documented.has(variable), variable)
})
