import { asset, type Asset, COMPILED, readAsset, script } from './assets.js'
import { dashboardStylesheet } from './dashboard-stylesheet.js'

/** What GET /dashboard serves: the page and stylesheet at once, the script when first asked for. */
export interface DashboardFiles {
  html: Asset
  stylesheet: Asset
  script: () => Promise<Asset>
}

const STYLESHEET_TYPE = 'text/css; charset=utf-8'

/**
 * `dashboard/` beside this module's folder: the sources under tsx, `dist/dashboard` (where the
 * build puts the page, the stylesheet and the bundled script) when compiled.
 */
const DIR = new URL('../dashboard/', import.meta.url)

/**
 * The dashboard's files; its script is the dashboard, the client SDK and uPlot, bundled (see
 * assets.ts), its stylesheet uPlot's and its own, joined by the build or, from the sources, now.
 */
export function dashboardFiles (): DashboardFiles {
  return {
    html: readAsset(new URL('index.html', DIR), 'text/html; charset=utf-8'),
    stylesheet: COMPILED ? readAsset(new URL('dashboard.css', DIR), STYLESHEET_TYPE) : asset(dashboardStylesheet(), STYLESHEET_TYPE),
    script: script('dashboard', new URL('app.js', DIR))
  }
}
