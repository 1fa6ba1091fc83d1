/// <reference lib="dom" />
import { accessSync, constants } from 'node:fs'
import { createServer } from 'node:http'
import { delimiter, join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'

/** Bounded waits for the page: generous for a loaded CI machine, short of the test timeout. */
export const WAIT_MS = 15_000
export const ARTIFACTS = new URL('../artifacts/', import.meta.url)

/**
 * Debian's Chromium (`apt-get install -y chromium`), never a downloaded one: the first
 * `chromium` on PATH, or CHROMIUM_PATH. Missing, the test fails: a skipped browser test would
 * let a broken page or SDK pass CI.
 */
function chromiumPath (): string {
  const candidates = process.env.CHROMIUM_PATH === undefined
    ? (process.env.PATH ?? '').split(delimiter).flatMap((dir) => [join(dir, 'chromium'), join(dir, 'chromium-browser')])
    : [process.env.CHROMIUM_PATH]
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error(process.env.CHROMIUM_PATH === undefined
    ? 'chromium not found on PATH: install it with `apt-get install -y chromium`'
    : `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable`)
}

/** A page's body and content type, or undefined for a 404. */
export type PageFiles = (path: string) => { type: string, body: string | Buffer } | undefined

/**
 * An origin of its own for the pages under test (a gateway on another origin is what an app
 * meets), listening on 127.0.0.1 until the end of `t`; returns its base URL.
 */
export async function servePages (t: Test, files: PageFiles): Promise<string> {
  const server = createServer((request, response) => {
    const file = files(new URL(request.url ?? '/', 'http://page').pathname)
    if (file === undefined) response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    else response.writeHead(200, { 'content-type': file.type }).end(file.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('page server has no address')
  return `http://127.0.0.1:${address.port}`
}

/** A headless Chromium, closed at the end of `t`. */
export async function launch (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], timeout: WAIT_MS })
  t.teardown(async () => { await browser.close() })
  return browser
}

/** A page at `url` whose script errors and CSP violations (console errors) are collected for the test to assert on. */
export async function openPage (browser: Browser, url: string): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.setDefaultTimeout(WAIT_MS)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
  await page.goto(url)
  return { page, errors }
}

/** The dashboard of the gateway at `url`, as `openPage` opens it. */
export async function open (browser: Browser, url: string): Promise<{ page: Page, errors: string[] }> {
  return await openPage(browser, `${url}/dashboard`)
}

/** Mints a token with the page's development form, then connects the chosen stream. */
export async function connectWithDevToken (t: Test, page: Page, sub: string, admin: boolean, patterns: string): Promise<void> {
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

/** The list row of the first event of `type`. */
export const row = (type: string): string => `#event-list li[data-type="${type}"]`
