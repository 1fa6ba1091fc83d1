import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dashboardStylesheet } from './dashboard-stylesheet.js'

/** A file as served: its bytes, content type and a strong ETag for revalidation. */
export interface Asset {
  body: Buffer
  type: string
  etag: string
}

/** What GET /dashboard serves: the page and stylesheet at once, the script when first asked for. */
export interface DashboardFiles {
  html: Asset
  stylesheet: Asset
  script: () => Promise<Asset>
}

const SCRIPT_TYPE = 'text/javascript; charset=utf-8'
const STYLESHEET_TYPE = 'text/css; charset=utf-8'

/**
 * `dashboard/` beside this module's folder: the sources under tsx, `dist/dashboard` (where the
 * build puts the page, the stylesheet and the bundled script) when compiled.
 */
const DIR = new URL('../dashboard/', import.meta.url)
const COMPILED = import.meta.url.endsWith('.js')

export function asset (body: Uint8Array | string, type: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` }
}

function readAsset (file: string, type: string): Asset {
  return asset(readFileSync(fileURLToPath(new URL(file, DIR))), type)
}

/**
 * The dashboard's files. Compiled, every one was made by `npm run build` and is read now, so a
 * running gateway neither bundles nor spawns esbuild, and a build without the script fails the
 * start instead of the first page view. From the sources, the script is bundled at its first
 * request (esbuild, a development dependency, loaded only then) and kept in memory; concurrent
 * first requests share one bundling, and a failed one is retried by the next request.
 */
export function dashboardFiles (): DashboardFiles {
  const html = readAsset('index.html', 'text/html; charset=utf-8')
  if (COMPILED) {
    const stylesheet = readAsset('dashboard.css', STYLESHEET_TYPE)
    const prebuilt = Promise.resolve(readAsset('app.js', SCRIPT_TYPE))
    return { html, stylesheet, script: async () => await prebuilt }
  }
  const stylesheet = asset(dashboardStylesheet(), STYLESHEET_TYPE)
  let bundled: Promise<Asset> | undefined
  const script = async (): Promise<Asset> => {
    bundled ??= import('./dashboard-bundle.js')
      .then(async ({ bundleDashboard }) => asset(await bundleDashboard(), SCRIPT_TYPE))
      .catch((err: unknown) => {
        bundled = undefined
        throw err
      })
    return await bundled
  }
  return { html, stylesheet, script }
}
