import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** A file as served: its bytes, content type and a strong ETag for revalidation. */
export interface Asset {
  body: Buffer
  type: string
  etag: string
}

const here = dirname(fileURLToPath(import.meta.url))
/** Under tsx, `dashboard/`; from `dist/routes`, the compiled scripts sit in `dist/dashboard`. */
const scriptDir = join(here, '..', 'dashboard')

/**
 * The directory holding `index.html` and `dashboard.css`. tsc compiles only TypeScript into
 * `dist/`, so a gateway started from `dist/routes` reads them from the sources it was built from.
 */
export function staticDir (): string {
  const candidates = [scriptDir, join(here, '..', '..', 'dashboard')]
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')))
  if (found === undefined) throw new Error(`dashboard assets not found in ${candidates.join(' or ')}`)
  return found
}

export function asset (body: Buffer | string, type: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` }
}

export function readAsset (dir: string, file: string, type: string): Asset {
  return asset(readFileSync(join(dir, file)), type)
}

/**
 * uPlot's stylesheet, then the page's own, as one file: the page's CSP loads styles from this
 * origin only, and one request is one revalidation.
 */
export function dashboardStylesheet (dir: string): Asset {
  const uplot = readFileSync(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'))
  return asset(Buffer.concat([uplot, Buffer.from('\n'), readFileSync(join(dir, 'dashboard.css'))]), 'text/css; charset=utf-8')
}

/**
 * The dashboard's script with what it imports (the client SDK, uPlot), as one ES module. Bundled from the
 * TypeScript sources under tsx, from the compiled JavaScript under `dist/`: the same entry,
 * whichever of the two this process runs.
 */
export async function bundleDashboard (): Promise<Asset> {
  const source = join(scriptDir, 'app.ts')
  const entry = existsSync(source) ? source : join(scriptDir, 'app.js')
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent'
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error('esbuild produced no output')
  return asset(Buffer.from(output.contents), 'text/javascript; charset=utf-8')
}
