import { createServer } from 'node:http'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import t, { type Test } from 'tap'
import { userToken } from '../../harness/tokens.js'
import { publish } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { startGateway } from '../helpers/gateway.js'

/** Where Debian and Ubuntu put it; CHROMIUM_PATH names another. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * What the page runs, as plain JavaScript: functions handed to `page.evaluate` would carry the
 * helpers the TypeScript loader adds, which do not exist in the page.
 */
const PAGE = `
import { createClient } from '/client.js'
export const seen = { events: [], states: [], errors: [] }
window.seen = seen
export async function start (url, token) {
  const client = createClient({ url, getToken: async () => token })
  client.on('state', (state) => { seen.states.push(state) })
  client.on('error', (err) => { seen.errors.push(err.code + ' ' + err.message) })
  await client.subscribe('orders.*', (event) => { seen.events.push(event.id) })
  return seen.states
}
`

/** The bundle a dashboard would ship, and a page that loads it, from an origin of their own. */
async function servePage (t: Test): Promise<string> {
  const bundle = await build({
    entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent'
  })
  const code = bundle.outputFiles[0]?.text ?? ''
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><title>client</title><script type="module">import { start } from "/page.js"; window.start = start</script>'],
    '/client.js': ['text/javascript', code],
    '/page.js': ['text/javascript', PAGE]
  }
  const server = createServer((request, response) => {
    const [type, body] = files[request.url ?? ''] ?? ['text/plain', 'not found']
    response.writeHead(type === 'text/plain' ? 404 : 200, { 'content-type': type }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('page server has no address')
  return `http://127.0.0.1:${address.port}`
}

t.test('in a real browser: native WebSocket, a ticket over fetch, events delivered', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, ALLOWED_ORIGINS: 'http://127.0.0.1:*' })
  const page = await servePage(t)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(async () => { await browser.close() })
  const tab = await browser.newPage()
  await tab.goto(page)

  const token = userToken('alice')
  await tab.waitForFunction('typeof window.start === "function"', undefined, { timeout: 5000 })
  const subscribed: unknown = await tab.evaluate(`start(${JSON.stringify(gw.url)}, ${JSON.stringify(token)})`)
  t.same(subscribed, ['open'])
  t.equal(gw.app.hub.size, 1, 'one socket on the gateway')

  const ids = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }, { type: 'orders.shipped', userId: 'alice' }])
  await tab.waitForFunction(`window.seen.events.length >= ${ids.length}`, undefined, { timeout: 5000 })
  const seen = await tab.evaluate('window.seen') as { events: string[], errors: string[] }
  t.same(seen.events, ids, 'both events, in order')
  t.same(seen.errors, [])
})
