import { accessSync, constants } from 'node:fs'
import { createServer } from 'node:http'
import { delimiter, join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import type { Test } from 'tap'

/**
 * Debian's Chromium (`apt-get install -y chromium`), never a downloaded one: the first
 * `chromium` on PATH, or CHROMIUM_PATH. Missing, the test fails: a skipped browser test would
 * let a broken page or SDK pass CI.
 */
export function chromiumPath (): string {
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

/** A headless Chromium, closed at the end of `t`. */
export async function launchChromium (t: Test, timeout: number): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], timeout })
  t.teardown(async () => { await browser.close() })
  return browser
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
