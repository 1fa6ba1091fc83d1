import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * uPlot's stylesheet, then the dashboard's own, as one file: the page's CSP loads styles from
 * this origin only, and one request is one revalidation. `npm run build` writes it into
 * `dist/dashboard/dashboard.css`; a gateway run from the sources makes it at start.
 */
export function dashboardStylesheet (): Buffer {
  const uplot = readFileSync(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'))
  const own = readFileSync(fileURLToPath(new URL('../dashboard/dashboard.css', import.meta.url)))
  return Buffer.concat([uplot, Buffer.from('\n'), own])
}
