import { type Asset, readAsset, script } from './assets.js'

/** What GET /dashboard serves: the page and stylesheet at once, the script when first asked for. */
export interface DashboardFiles {
  html: Asset
  stylesheet: Asset
  script: () => Promise<Asset>
}

/**
 * `dashboard/` beside this module's folder: the sources under tsx, `dist/dashboard` (where the
 * build puts the page, the stylesheet and the bundled script) when compiled.
 */
const DIR = new URL('../dashboard/', import.meta.url)

/** The dashboard's files; its script is the dashboard and the client SDK, bundled (see assets.ts). */
export function dashboardFiles (): DashboardFiles {
  return {
    html: readAsset(new URL('index.html', DIR), 'text/html; charset=utf-8'),
    stylesheet: readAsset(new URL('dashboard.css', DIR), 'text/css; charset=utf-8'),
    script: script('dashboard', new URL('app.js', DIR))
  }
}
