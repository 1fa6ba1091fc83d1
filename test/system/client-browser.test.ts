import t from 'tap'
import { userToken } from '../../harness/tokens.js'
import { launch, openPage, servePages, WAIT_MS } from '../helpers/browser.js'
import { publish } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { startGateway } from '../helpers/gateway.js'

/**
 * What the page runs, as plain JavaScript (functions handed to `page.evaluate` would carry the
 * helpers the TypeScript loader adds, which do not exist in the page): the SDK imported from
 * the gateway itself, as a page without a bundler does.
 */
const pageScript = (gateway: string): string => `
import { createClient } from '${gateway}/client.js'
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

t.test('in a real browser, from GET /client.js: native WebSocket, a ticket over fetch, events delivered', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, ALLOWED_ORIGINS: 'http://127.0.0.1:*' })
  const page = await servePages(t, (path) => ({
    '/': { type: 'text/html', body: '<!doctype html><title>client</title><link rel="icon" href="data:,"><script type="module">import { start } from "/page.js"; window.start = start</script>' },
    '/page.js': { type: 'text/javascript', body: pageScript(gw.url) }
  })[path])
  const { page: tab, errors } = await openPage(await launch(t), page)

  const token = userToken('alice')
  await tab.waitForFunction('typeof window.start === "function"', undefined, { timeout: WAIT_MS })
  const subscribed: unknown = await tab.evaluate(`start(${JSON.stringify(gw.url)}, ${JSON.stringify(token)})`)
  t.same(subscribed, ['open'])
  t.equal(gw.app.hub.size, 1, 'one socket on the gateway')

  const ids = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }, { type: 'orders.shipped', userId: 'alice' }])
  await tab.waitForFunction(`window.seen.events.length >= ${ids.length}`, undefined, { timeout: WAIT_MS })
  const seen = await tab.evaluate('window.seen') as { events: string[], errors: string[] }
  t.same(seen.events, ids, 'both events, in order')
  t.same(seen.errors, [])
  t.same(errors, [], 'no script error, no CORS refusal')
})
