/// <reference lib="dom" />
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'

/** Bounded waits for the page: generous for a loaded CI machine, short of the test timeout. */
export const WAIT_MS = 15_000
export const ARTIFACTS = new URL('../artifacts/', import.meta.url)

/**
 * Debian's Chromium (`apt-get install -y chromium`), never a downloaded one. Missing, the test
 * fails: a skipped browser test would let a broken dashboard pass CI.
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

export async function launch (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), timeout: WAIT_MS })
  t.teardown(async () => { await browser.close() })
  return browser
}

/** A page whose script errors and CSP violations (console errors) are collected for the test to assert on. */
export async function open (browser: Browser, url: string): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.setDefaultTimeout(WAIT_MS)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
  await page.goto(`${url}/dashboard`)
  return { page, errors }
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
