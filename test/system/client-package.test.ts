import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { userToken } from '../../harness/tokens.js'
import { launch, openPage, servePages, WAIT_MS } from '../helpers/browser.js'
import { publish } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { startGateway } from '../helpers/gateway.js'
import { codeBlocks } from '../helpers/markdown.js'
import { within } from '../helpers/within.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Compiling the package, then installing it, on a loaded machine. */
const PACK_MS = 120_000

/**
 * npm without what the runner's npm put in the environment (npm_config_*, a workspace), with a
 * cache of its own: the install below can only use the tarball it is given.
 */
function npm (args: string[], cwd: string, cache: string): Promise<{ stdout: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_cache: cache }
  return within(promisify(execFile)('npm', args, { cwd, env }), PACK_MS, `npm ${args.join(' ')}`)
}

/** A scratch app, as another project would be: the package packed, then installed from the tarball alone. */
const app = mkdtempSync(join(tmpdir(), 'eventgate-app-'))
t.teardown(() => { rmSync(app, { recursive: true, force: true }) })
const cache = join(app, '.npm-cache')
await npm(['pack', '-w', '@eventgate/client', '--pack-destination', app], ROOT, cache)
const tarball = readdirSync(app).find((file) => file.endsWith('.tgz')) ?? ''
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }))
await npm(['install', '--offline', '--no-audit', '--no-fund', `./${tarball}`], app, cache)
const INSTALLED = join(app, 'node_modules', '@eventgate', 'client')

t.test('the tarball holds compiled modules with their types, no sources, no dependencies', async (t) => {
  t.match(tarball, /^eventgate-client-\d+\.\d+\.\d+\.tgz$/)
  const { stdout } = await promisify(execFile)('tar', ['tzf', join(app, tarball)])
  const files = stdout.trim().split('\n')
  t.ok(files.includes('package/dist/client/index.js') && files.includes('package/dist/client/index.d.ts'), 'ESM and .d.ts')
  t.ok(files.includes('package/README.md') && files.includes('package/LICENSE'))
  t.same(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), [], 'no TypeScript source')
  t.same(files.filter((file) => !/^package\/(dist\/(client|wire)\/[\w-]+\.(js|d\.ts)|package\.json|README\.md|LICENSE)$/.test(file)), [], 'nothing else')
  const manifest = JSON.parse(readFileSync(join(INSTALLED, 'package.json'), 'utf8')) as Record<string, unknown>
  t.equal(manifest.type, 'module')
  t.equal(manifest.sideEffects, false)
  t.equal(manifest.dependencies, undefined, 'no runtime dependencies')
  t.same(readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.')), ['@eventgate'], 'the install brought nothing else')
})

t.test('a TypeScript app type-checks against the installed declarations, with no DOM and no Node types', async (t) => {
  writeFileSync(join(app, 'check.ts'), `import { createClient, EventgateError, type GatewayEvent } from '@eventgate/client'
const client = createClient({ url: 'http://127.0.0.1:3000', getToken: () => 'token' })
const seen: GatewayEvent[] = []
void client.subscribe('authentication.*', (event) => { seen.push(event) })
// @ts-expect-error: the URL is a string
createClient({ url: 3000, getToken: () => 'token' })
export const isClientError = (err: unknown): boolean => err instanceof EventgateError
`)
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], types: [], skipLibCheck: false },
    files: ['check.ts']
  }))
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', app]).then(() => '', (err: { stdout: string }) => err.stdout)
  t.equal(result, '', 'no type error, and the deliberate one is caught')
})

/** Lines of `child`'s stdout so far, and a wait for one that matches. */
function output (child: ChildProcess): { lines: string[], line: (match: RegExp, what: string) => Promise<string> } {
  const lines: string[] = []
  const waiting = new Set<() => void>()
  let rest = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n')
    rest = parts.pop() ?? ''
    lines.push(...parts)
    for (const wake of waiting) wake()
  })
  const line = async (match: RegExp, what: string): Promise<string> => await within(new Promise<string>((resolve) => {
    const check = (): void => {
      const found = lines.find((l) => match.test(l))
      if (found === undefined) return
      waiting.delete(check)
      resolve(found)
    }
    waiting.add(check)
    check()
  }), WAIT_MS, what)
  return { lines, line }
}

t.test('Node: the example of the package README, as pasted, receives an event and stops on Ctrl-C', async (t) => {
  const [example] = codeBlocks(readFileSync(join(ROOT, 'packages', 'client', 'README.md'), 'utf8'), 'js')
  t.ok(example?.includes("from '@eventgate/client'"), 'the example imports the package')
  t.equal(codeBlocks(readFileSync(join(ROOT, 'docs', 'client.md'), 'utf8'), 'js')[0], example, 'the manual shows the same example')
  writeFileSync(join(app, 'watch.mjs'), example ?? '')

  const gw = await startGateway(t, LENIENT_LIMITS)
  const child = spawn(process.execPath, ['watch.mjs'], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', EVENTGATE_URL: gw.url, USER_TOKEN: userToken('alice') },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGKILL')
    await exited
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const { lines, line } = output(child)

  await line(/^subscribed to authentication\.\*$/, 'the example to subscribe')
  const [id] = await publish(gw.url, [{ type: 'authentication.login.success', userId: 'alice', data: { ip: '203.0.113.7' } }])
  t.equal(await line(/^event /, 'the event'), `event ${id ?? ''} authentication.login.success alice {"ip":"203.0.113.7"}`)

  child.kill('SIGINT')
  t.equal(await within(exited, WAIT_MS, 'the example to exit'), 0, 'close() leaves nothing running')
  t.same(lines.filter((l) => l.startsWith('state')).map((l) => l.trim()), ['state open', 'state closed'])
  t.equal(stderr, '', 'no warning, no error')
})

t.test('Chromium: the installed package, unbundled, through an import map', async (t) => {
  const manifest = JSON.parse(readFileSync(join(INSTALLED, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }
  const entry = `/node_modules/@eventgate/client/${manifest.exports['.']?.default ?? ''}`
  const html = `<!doctype html><title>app</title><link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports: { '@eventgate/client': entry } })}</script>
<script type="module">
import { createClient } from '@eventgate/client'
window.seen = { events: [], errors: [] }
window.start = async (url, token) => {
  const client = createClient({ url, getToken: () => token })
  client.on('error', (err) => { window.seen.errors.push(err.code + ' ' + err.message) })
  await client.subscribe('orders.*', (event) => { window.seen.events.push(event.id) })
  return client.state
}
</script>`
  const page = await servePages(t, (path) => {
    if (path === '/') return { type: 'text/html', body: html }
    // The installed files, as a static server of the app would serve them; nothing outside node_modules.
    const file = normalize(join(app, path))
    if (!file.startsWith(join(app, 'node_modules') + '/') || !file.endsWith('.js')) return undefined
    try {
      return { type: 'text/javascript', body: readFileSync(file) }
    } catch {
      return undefined
    }
  })

  const gw = await startGateway(t, { ...LENIENT_LIMITS, ALLOWED_ORIGINS: 'http://127.0.0.1:*' })
  const { page: tab, errors } = await openPage(await launch(t), page)
  await tab.waitForFunction('typeof window.start === "function"', undefined, { timeout: WAIT_MS })
  t.equal(await tab.evaluate(`start(${JSON.stringify(gw.url)}, ${JSON.stringify(userToken('bob'))})`), 'open')

  const ids = await publish(gw.url, [{ type: 'orders.created', userId: 'bob' }, { type: 'orders.paid', userId: 'bob' }])
  await tab.waitForFunction(`window.seen.events.length >= ${ids.length}`, undefined, { timeout: WAIT_MS })
  t.same(await tab.evaluate('window.seen'), { events: ids, errors: [] }, 'both events, in order')
  t.same(errors, [], 'every module loaded: no bare import left for the browser to fail on')
})
