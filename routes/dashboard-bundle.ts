import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** The dashboard's entry, in the sources: esbuild reads TypeScript itself. */
const ENTRY = fileURLToPath(new URL('../dashboard/app.ts', import.meta.url))

/**
 * The dashboard's script and what it imports (the client SDK, uPlot), as one minified ES module. `npm run
 * build` writes it into `dist/dashboard/app.js`; a gateway run from the sources (tsx, the tests)
 * bundles it at the first request instead. This module is the only one that loads esbuild, and
 * a gateway run from `dist/` never imports it.
 */
export async function bundleDashboard (): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [ENTRY],
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
  return output.contents
}
