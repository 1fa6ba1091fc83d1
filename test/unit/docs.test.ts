import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { EnvSchema } from '../../src/config.js'
import { CloseCode, HttpError, ProtocolError } from '../../src/errors.js'
import { brokenLinks, linkTargets } from '../helpers/markdown.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (page: string): string => readFileSync(`${root}${page}`, 'utf8')
const pages = ['README.md', 'CONTRIBUTING.md', 'packages/client/README.md', ...readdirSync(`${root}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

/** The first cells of a page's table rows: `| \`CODE\` | ...`. */
const documented = (page: string): Set<string> => new Set([...read(page).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] ?? ''))

t.test('every close code of the catalogue has a row in docs/protocol.md', async (t) => {
  const rows = documented('docs/protocol.md')
  for (const [name, code] of Object.entries(CloseCode)) t.ok(rows.has(String(code)), `${name} (${code})`)
})

t.test('every protocol error code has a row in docs/protocol.md', async (t) => {
  const rows = documented('docs/protocol.md')
  for (const code of Object.values(ProtocolError)) t.ok(rows.has(code), code)
})

t.test('every HTTP error code has a row in docs/http-api.md, with its status', async (t) => {
  const page = read('docs/http-api.md')
  for (const [code, status] of Object.entries(HttpError)) {
    t.match(page, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'), code)
  }
})

t.test('every environment variable has a row in docs/configuration.md', async (t) => {
  const rows = documented('docs/configuration.md')
  for (const variable of Object.keys(EnvSchema.properties)) t.ok(rows.has(variable), variable)
})

t.test('every relative link of the READMEs, CONTRIBUTING.md and docs/ reaches a file, and its #anchor a heading', async (t) => {
  for (const page of pages) t.same(brokenLinks(root, page), [], page)
})

t.test('every page of docs/ is linked from the README', async (t) => {
  const targets = new Set(linkTargets(read('README.md')).map((target) => target.split('#')[0]))
  for (const page of pages.filter((p) => p.startsWith('docs/'))) t.ok(targets.has(page), page)
})
