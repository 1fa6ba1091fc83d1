/// <reference lib="dom" />
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import t from 'tap'
import { token } from '../../harness/tokens.js'
import { DEV_JWT_SECRET } from '../../src/config.js'
import { ARTIFACTS, connectWithDevToken, launch, open, row } from '../helpers/browser.js'
import { post, startGateway } from '../helpers/gateway.js'

interface Published { type: string, userId?: string, groups?: string[], data?: Record<string, unknown> }

/** A scripted mix: routine logins, failures from a few addresses, a lockout, a room event, an admin-only event. */
const MIX: Published[] = [
  ...['alice', 'bob', 'carol', 'dave'].map((user) => ({ type: 'authentication.login.success', userId: user, data: { ip: '203.0.113.7' } })),
  ...Array.from({ length: 5 }, () => ({ type: 'authentication.login.failed', userId: 'mallory', data: { ip: '198.51.100.9', reason: 'bad_password' } })),
  ...Array.from({ length: 2 }, () => ({ type: 'authentication.login.failed', userId: 'bob', data: { ip: '192.0.2.44', reason: 'bad_password' } })),
  { type: 'authentication.account.locked', userId: 'mallory', data: { ip: '198.51.100.9', reason: 'too_many_failures' } },
  { type: 'incident.updated', groups: ['ops'], data: { note: 'disk full on db-2' } },
  { type: 'admin.maintenance.scheduled', data: { window: '02:00-03:00' } }
]

/** What the chart holds, read from its documented `data-series-totals` attribute. */
async function chartTotals (page: Page): Promise<Record<string, number>> {
  return JSON.parse(await page.getAttribute('#rate-chart', 'data-series-totals') ?? '{}') as Record<string, number>
}

/** The types of the rows the filter lets through, newest first. */
async function shownTypes (page: Page): Promise<string[]> {
  return await page.$$eval('#event-list li.event:not([hidden])', (rows) => rows.map((r) => (r as HTMLElement).dataset.type ?? ''))
}

async function style (page: Page, selector: string, property: 'backgroundColor' | 'color'): Promise<string> {
  return await page.$eval(selector, (element, p) => getComputedStyle(element)[p], property)
}

t.test('the dashboard as a console: rate chart, severity, offenders, filters, audit columns, header, replay seam', async (t) => {
  const gateway = await startGateway(t, { JWT_SECRET: '' })
  const service = token({ sub: 'auth-service', roles: ['service'] }, DEV_JWT_SECRET)
  const publish = async (events: Published[]): Promise<void> => {
    const answer = await post(`${gateway.url}/events`, { events }, service)
    if (answer.status !== 202) throw new Error(`publish: ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  const browser = await launch(t)
  const { page, errors } = await open(browser, gateway.url)

  t.ok(await page.isVisible('#first-run'), 'first run: the empty list says what to do')
  t.match(await page.textContent('#first-run'), /npm run publish-event -- --type/, 'including the command that publishes an event')
  t.match(await page.textContent('#time-zone'), /^time \((GMT|UTC)[+-]?\d*(:\d\d)?\)$/, 'the rows\' clock names its zone')

  await page.fill('#dev-sub', 'root')
  await page.setChecked('#dev-admin', true)
  await page.click('#mint')
  await page.waitForSelector('#message:has-text("valid until")')
  t.match(await page.textContent('#message'), /valid until \d\d:\d\d:\d\d (GMT|UTC)/, 'the minted token\'s expiry in the 24-hour clock, with the zone')
  t.notMatch(await page.textContent('#message'), /[AP]M/)
  await connectWithDevToken(t, page, 'root', true, '*')
  await page.waitForFunction(() => /instance /.test(document.querySelector('#session')?.textContent ?? ''))
  t.match(await page.textContent('#session'), new RegExp(`^root · roles admin · /ws/admin · instance ${gateway.app.config.serverId} · token expires \\d\\d:\\d\\d:\\d\\d (GMT|UTC)`), 'who is connected, to which instance, until when')

  await publish(MIX)
  // The gateway's own audit event: a refused token on this address.
  t.equal((await post(`${gateway.url}/events`, { type: 'x.y' }, 'not-a-jwt')).status, 401)
  await page.waitForSelector(row('security.auth.failed'))
  await page.waitForSelector(row('admin.maintenance.scheduled'))
  t.notOk(await page.isVisible('#first-run'), 'the guide leaves once events arrive')

  const rows = await page.locator('#event-list li.event').count()
  const authRows = await page.locator('#event-list li.event[data-type^="authentication."]').count()
  await page.waitForFunction((n) => JSON.parse((document.querySelector('#rate-chart') as HTMLElement).dataset.seriesTotals ?? '{}').total === n, rows)
  const totals = await chartTotals(page)
  t.equal(totals.total, rows, 'the chart counts every event listed')
  t.equal(totals.authentication, authRows, 'and per namespace')
  t.equal(authRows, 12)
  t.equal(totals.incident, 1)
  t.equal(await page.getAttribute('#rate-chart', 'data-window-seconds'), '900', 'fifteen minutes held in the page')
  t.ok(await page.locator('#rate-chart .uplot canvas').count() >= 1, 'drawn by uPlot')

  const failed = `${row('authentication.login.failed')}`
  t.equal(await page.getAttribute(failed, 'data-severity'), 'alert')
  t.equal(await style(page, failed, 'backgroundColor'), 'rgb(58, 29, 31)', 'a failure stands out')
  t.equal(await style(page, `${failed} .event-type`, 'color'), 'rgb(248, 81, 73)')
  t.equal(await style(page, row('authentication.account.locked'), 'backgroundColor'), 'rgb(58, 29, 31)', 'so does a lockout')
  const success = row('authentication.login.success')
  t.equal(await page.getAttribute(success, 'data-severity'), 'ok')
  t.equal(await style(page, success, 'backgroundColor'), 'rgba(0, 0, 0, 0)', 'a success stays neutral')
  t.equal(await style(page, `${success} .event-type`, 'color'), 'rgb(138, 150, 163)')

  const audit = row('security.auth.failed')
  t.equal(await page.textContent(`${audit} .event-address`), '127.0.0.1', 'an audit row shows its address')
  t.equal(await page.textContent(`${audit} .event-reason`), 'token_invalid', 'and its reason')
  t.not(await page.textContent(`${audit} .event-user`), 'admins', 'not its audience')
  t.equal(await page.textContent(`${row('authentication.login.failed')} .event-user`), 'bob')
  t.equal(await page.textContent(`${row('admin.maintenance.scheduled')} .event-user`), 'admins', 'an admin.* event is not a broadcast')
  t.equal(await page.textContent(`${row('incident.updated')} .event-user`), '#ops', 'a room event names its room')
  await page.click(audit)
  const shown = JSON.parse(await page.textContent('#event-json') ?? '{}') as Record<string, unknown>
  t.match(shown, { type: 'security.auth.failed', audience: 'admin', data: { ip: '127.0.0.1', reason: 'token_invalid' } }, 'the event pane holds the whole event')
  t.ok(typeof shown.id === 'string' && typeof shown.timestamp === 'string')

  const typeCell = page.locator('#counters td', { hasText: 'authentication.account.locked' })
  t.ok(await typeCell.evaluate((cell) => cell.scrollWidth <= cell.clientWidth), 'the per-type panel does not cut a type name off')
  t.ok(await typeCell.evaluate((cell) => Array.from(cell.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE).every((n) => {
    const range = document.createRange()
    range.selectNodeContents(n)
    return range.getClientRects().length === 1
  })), 'and wraps a long one only after a dot')
  t.equal(await typeCell.textContent(), 'authentication.account.locked')

  await page.waitForSelector('#top-addresses button[data-key="198.51.100.9"]')
  const offenders = async (list: string): Promise<Array<[string, number]>> =>
    await page.$$eval(`${list} button`, (buttons) => buttons.map((b) => [(b as HTMLElement).dataset.key ?? '', Number((b as HTMLElement).dataset.count)] as [string, number]))
  t.same(await offenders('#top-addresses'), [['198.51.100.9', 6], ['192.0.2.44', 2], ['127.0.0.1', 1]], 'the top offending addresses, failures and lockouts counted')
  t.same((await offenders('#top-users')).slice(0, 2), [['mallory', 6], ['bob', 2]], 'and users')
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: new URL('console.png', ARTIFACTS).pathname })

  await page.click('#top-addresses button[data-key="198.51.100.9"]')
  t.equal(await page.inputValue('#filter'), 'address=198.51.100.9', 'a click on an offender filters the list to it')
  t.equal(await page.getAttribute('#top-addresses button[data-key="198.51.100.9"]', 'aria-pressed'), 'true', 'and shows it pressed')
  t.same(await shownTypes(page), ['authentication.account.locked', ...Array<string>(5).fill('authentication.login.failed')])
  t.match(await page.textContent('#list-status'), /^6 shown · \d+ filtered out/)
  await page.screenshot({ path: new URL('console-offender.png', ARTIFACTS).pathname })
  await page.click('#top-users button[data-key="bob"]')
  t.same(await shownTypes(page), ['authentication.login.failed', 'authentication.login.failed', 'authentication.login.success'], 'a user too: the events about bob')

  await page.fill('#filter', 'disk')
  t.same(await shownTypes(page), ['incident.updated'], 'free text')
  await page.fill('#filter', 'room=ops')
  t.same(await shownTypes(page), ['incident.updated'], 'a room')
  t.equal(await page.$eval('#filter-suggestions option', (o) => (o as HTMLOptionElement).value), 'room=ops', 'rooms seen are offered to the filter')
  await page.fill('#filter', 'type:login reason=bad_password user=mallory')
  t.equal((await shownTypes(page)).length, 5, 'fields and data fields, all of them holding')
  await page.fill('#filter', '')
  t.equal((await shownTypes(page)).length, rows, 'an empty filter shows every row again')

  await page.click('#pause')
  await publish([{ type: 'authentication.login.success', userId: 'erin' }, { type: 'authentication.logout', userId: 'erin' }])
  await page.waitForFunction(() => /2 waiting · paused$/.test(document.querySelector('#list-status')?.textContent ?? ''))
  t.equal(await page.textContent('#pause'), 'Resume (2 waiting)')
  await page.click('#pause')
  await page.waitForSelector(row('authentication.logout'))

  // The socket drops; the reconnect is held at its ticket until three events were published meanwhile.
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  await page.route('**/ws/ticket', async (route) => {
    await held
    await route.continue()
  })
  for (const connection of gateway.app.hub.each()) connection.socket.terminate()
  await page.waitForSelector('#state[data-state="reconnecting"]')
  const missed = Array.from({ length: 3 }, () => ({ type: 'authentication.login.failed', userId: 'trudy', data: { ip: '198.51.100.77' } }))
  await publish(missed)
  release()
  const divider = page.locator('#event-list li.divider')
  await divider.waitFor()
  t.equal(await divider.textContent(), 'reconnected, 3 replayed', 'the seam of the reconnect, with what was replayed')
  await page.waitForFunction(() => document.querySelectorAll('#event-list li.event[data-type="authentication.login.failed"]').length === 10)
  const replayedAbove = await page.$$eval('#event-list li', (items) => {
    const seam = items.findIndex((li) => li.classList.contains('divider'))
    return items.slice(0, seam).filter((li) => li.textContent?.includes('trudy') === true).length
  })
  t.equal(replayedAbove, 3, 'the replayed events above the seam, once each')
  const allRows = await page.locator('#event-list li.event').count()
  await page.waitForFunction((n) => JSON.parse((document.querySelector('#rate-chart') as HTMLElement).dataset.seriesTotals ?? '{}').total === n, allRows)
  t.pass('replayed events counted once, at their own time')

  await page.fill('#patterns', '* Bad.Pattern')
  await page.click('#apply')
  await page.waitForSelector('#message.error')
  const refusal = await page.textContent('#message') ?? ''
  t.equal(refusal.split('"Bad.Pattern"').length, 2, `a refused pattern is named once: ${refusal}`)

  await page.screenshot({ path: new URL('console-replayed.png', ARTIFACTS).pathname })
  t.same(errors, [], 'no script error or CSP violation')
})
