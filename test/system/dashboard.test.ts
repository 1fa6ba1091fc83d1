/// <reference lib="dom" />
import { mkdirSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { token } from '../../harness/tokens.js'
import { createClient } from '../../src/client/index.js'
import { DEV_JWT_SECRET } from '../../src/config.js'
import { launchChromium } from '../helpers/browser.js'
import { get, post, startGateway } from '../helpers/gateway.js'

/** Bounded waits for the page: generous for a loaded CI machine, short of the test timeout. */
const WAIT_MS = 15_000
const ARTIFACTS = new URL('../artifacts/', import.meta.url)

/** A page whose script errors and CSP violations (console errors) are collected for the test to assert on. */
async function open (browser: Browser, url: string): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.setDefaultTimeout(WAIT_MS)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
  await page.goto(`${url}/dashboard`)
  return { page, errors }
}

/** Mints a token with the page's development form, then connects the chosen stream. */
async function connectWithDevToken (t: Test, page: Page, sub: string, admin: boolean, patterns: string): Promise<void> {
  await page.fill('#dev-sub', sub)
  await page.setChecked('#dev-admin', admin)
  await page.click('#mint')
  await page.waitForFunction(() => (document.querySelector('#token') as HTMLTextAreaElement).value.split('.').length === 3)
  t.ok(await page.isChecked(`input[name="stream"][value="${admin ? 'admin' : 'events'}"]`), 'the minted role picks the stream')
  await page.fill('#patterns', patterns)
  await page.click('#connect')
  await page.waitForSelector('#state[data-state="open"]')
  await page.waitForFunction((wanted) => document.querySelector('#message')?.textContent === `subscribed to ${wanted}`, patterns)
}

const row = (type: string): string => `#event-list li[data-type="${type}"]`

t.test('serves the page, stylesheet and script with their types, a strict CSP and revalidation', async (t) => {
  const gateway = await startGateway(t)
  const page = await fetch(`${gateway.url}/dashboard`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/)
  const csp = page.headers.get('content-security-policy') ?? ''
  t.match(csp, /script-src 'self'(;|$)/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(page.headers.get('cache-control'), 'no-cache')
  t.equal(page.headers.get('x-content-type-options'), 'nosniff')
  const html = await page.text()
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /data-development/, 'no dev-token form with a real key')

  const etag = page.headers.get('etag') ?? ''
  const again = await fetch(`${gateway.url}/dashboard`, { headers: { 'if-none-match': etag } })
  t.equal(again.status, 304, 'revalidated by its ETag')

  const script = await fetch(`${gateway.url}/dashboard/app.js`)
  t.equal(script.status, 200)
  t.match(script.headers.get('content-type'), /^text\/javascript/)
  t.equal(script.headers.get('cache-control'), 'no-cache')
  const code = await script.text()
  t.notMatch(code, /^\s*import\s/m, 'one bundle: the SDK is inside, nothing left to import')
  const cached = await fetch(`${gateway.url}/dashboard/app.js`)
  t.equal(cached.headers.get('etag'), script.headers.get('etag'), 'bundled once, then served from memory')

  const css = await fetch(`${gateway.url}/dashboard/dashboard.css`)
  t.equal(css.status, 200)
  t.match(css.headers.get('content-type'), /^text\/css/)
})

t.test('POST /dashboard/dev-token exists only with the public development key', async (t) => {
  const configured = await startGateway(t)
  t.equal((await post(`${configured.url}/dashboard/dev-token`, { sub: 'root', roles: ['admin'] })).status, 404, 'absent with JWT_SECRET set')

  const development = await startGateway(t, { JWT_SECRET: '' })
  t.match(await (await fetch(`${development.url}/dashboard`)).text(), /<body data-development>/)
  const minted = await post(`${development.url}/dashboard/dev-token`, { sub: 'root', roles: ['admin'] })
  t.equal(minted.status, 200)
  t.equal(minted.headers.get('cache-control'), 'no-store')
  const stats = await get(`${development.url}/ws/stats`, minted.body.token as string)
  t.equal(stats.status, 200, 'the minted admin token is accepted')
  t.equal((await post(`${development.url}/dashboard/dev-token`, { sub: 'root', extra: true })).status, 400)
  t.equal((await post(`${development.url}/dashboard/dev-token`, { roles: ['admin'] })).status, 400)
})

t.test('the dashboard in Chromium: user view, filter, pause, admin totals and security events', async (t) => {
  const gateway = await startGateway(t, { JWT_SECRET: '' })
  const service = token({ sub: 'auth-service', roles: ['service'] }, DEV_JWT_SECRET)
  const publish = async (type: string, userId?: string, data: Record<string, unknown> = {}): Promise<void> => {
    const answer = await post(`${gateway.url}/events`, { type, ...(userId === undefined ? {} : { userId }), data }, service)
    if (answer.status !== 202) throw new Error(`publish ${type}: ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  const browser = await launchChromium(t, WAIT_MS)

  const { page: refused } = await open(browser, gateway.url)
  await refused.fill('#token', 'not-a-jwt')
  await refused.click('#connect')
  await refused.waitForSelector('#message.error:has-text("token_invalid")')
  t.equal(await refused.getAttribute('#state', 'data-state'), 'closed', 'a refused token is not retried')
  await refused.close()

  const { page: user, errors: userErrors } = await open(browser, gateway.url)
  await connectWithDevToken(t, user, 'alice', false, 'authentication.*')

  const hostile = '<img src=x onerror=window.pwned=1>'
  await publish('authentication.login.success', 'alice', { ip: '203.0.113.7', note: hostile })
  await publish('session.created', 'alice')
  await publish('authentication.login.failed', 'alice', { ip: '198.51.100.9' })
  // Events arrive in publish order: once the last is shown, the one between had its chance.
  await user.waitForSelector(row('authentication.login.failed'))
  t.equal(await user.locator(row('authentication.login.success')).count(), 1, 'a matching event is listed')
  t.equal(await user.locator(row('session.created')).count(), 0, 'the filter keeps other types out')
  await user.waitForSelector('#counters tr:has-text("authentication.login.success")')

  await user.click(row('authentication.login.success'))
  t.match(await user.textContent('#event-json'), hostile, 'the event JSON shows the data as text')
  t.equal(await user.locator('img').count(), 0, 'event data is never parsed as markup')
  t.equal(await user.evaluate(() => (window as { pwned?: number }).pwned), undefined)

  await user.click('#pause')
  await publish('authentication.logout', 'alice')
  await user.waitForFunction(() => /1 waiting · paused/.test(document.querySelector('#list-status')?.textContent ?? ''))
  t.equal(await user.locator(row('authentication.logout')).count(), 0, 'paused: counted, not rendered')
  await user.click('#pause')
  await user.waitForSelector(row('authentication.logout'))
  t.same(userErrors, [], 'no script error or CSP violation')

  const { page: admin, errors: adminErrors } = await open(browser, gateway.url)
  await connectWithDevToken(t, admin, 'root', true, '*')
  await admin.waitForSelector('#admin-panel:not([hidden])')
  await admin.waitForFunction(() => Number(document.querySelector('#total-connections')?.textContent) >= 2)
  t.ok(Number(await admin.textContent('#total-users')) >= 2, 'users across instances')
  t.equal(await admin.textContent('#total-servers'), '1')
  await admin.waitForSelector('#servers tr')

  await publish('security.bruteforce.detected', undefined, { ip: '192.0.2.1', attempts: 40 })
  await publish('authentication.login.success', 'bob')
  const security = admin.locator(row('security.bruteforce.detected'))
  await security.waitFor()
  t.match(await security.getAttribute('class'), /\bsecurity\b/, 'security events are highlighted')
  t.equal(await admin.locator(row('authentication.login.success')).getAttribute('class'), 'event', 'other events are not')
  await admin.waitForSelector('#security-list li[data-type="security.bruteforce.detected"]')
  await security.click()
  await admin.waitForSelector('#counters tr:has-text("security.bruteforce.detected")')

  const inRooms = await post(`${gateway.url}/events`, { type: 'incident.updated', groups: ['incident-42', 'ops'], data: { note: hostile } }, service)
  t.equal(inRooms.status, 202, 'an event published into rooms')
  const roomRow = admin.locator(row('incident.updated'))
  await roomRow.waitFor()
  t.equal(await roomRow.locator('.event-user').textContent(), '#incident-42 #ops', 'the audience names the rooms, not broadcast')
  t.match(await roomRow.locator('.event-data').textContent(), hostile, 'its data shown as text')

  // A member whose user id is markup publishes into a room over its socket: the gateway names it as sender.
  const hostileUser = '<img src=x onerror=window.pwned=2>'
  const member = createClient({ url: gateway.url, getToken: () => token({ sub: hostileUser, rooms: { ops: 'write' } }, DEV_JWT_SECRET), WebSocket })
  t.teardown(async () => { await member.close() })
  await member.publish('ops', 'room.message', { text: hostile, [hostile]: hostile })
  const memberRow = admin.locator(row('room.message'))
  await memberRow.waitFor()
  t.equal(await memberRow.locator('.event-sender').textContent(), `from ${hostileUser}`, 'the sender, as text')
  t.equal(await memberRow.locator('.event-user').textContent(), '#ops')
  await memberRow.click()
  t.match(await admin.textContent('#event-json'), `"sender": "${hostileUser}"`, 'the event JSON shows the sender as text')
  t.equal(await admin.locator('img').count(), 0, 'no field of a room event is parsed as markup')
  t.equal(await admin.evaluate(() => (window as { pwned?: number }).pwned), undefined)

  mkdirSync(ARTIFACTS, { recursive: true })
  await admin.screenshot({ path: new URL('dashboard.png', ARTIFACTS).pathname })
  await user.screenshot({ path: new URL('dashboard-user.png', ARTIFACTS).pathname })
  t.same(adminErrors, [], 'no script error or CSP violation')

  // The gateway goes away: the SDK retries, and the page says so.
  await gateway.close()
  await user.waitForSelector('#state[data-state="reconnecting"]')
  // The first attempt follows the 1001 at once; the later ones, refused, count down their backoff.
  t.match(await user.textContent('#state'), /^reconnecting · attempt \d+ (in \d+ s|now)/, 'the countdown to the next attempt')
})
