import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** The browser scripts the gateway serves, by their entry in the sources: esbuild reads TypeScript itself. */
const ENTRIES = {
  /** The dashboard's script and the client SDK it imports. */
  dashboard: '../dashboard/app.ts',
  /** The client SDK alone, for pages without a bundler: GET /client.js. */
  client: '../src/client/index.ts'
} as const

export type Bundle = keyof typeof ENTRIES

/**
 * One of the browser scripts as one minified ES module. `npm run build` writes them into
 * `dist/`; a gateway run from the sources (tsx, the tests) bundles each at its first request
 * instead. This module is the only one that loads esbuild, and a gateway run from `dist/`
 * never imports it.
 */
export async function bundle (name: Bundle): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(ENTRIES[name], import.meta.url))],
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
