import { build } from 'esbuild'
import t from 'tap'

t.test('the client bundles for browsers with nothing from Node', async (t) => {
  const result = await build({
    entryPoints: [new URL('../../../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  const inputs = Object.keys(result.metafile.inputs)
  // The wire contract is the gateway's own, shared rather than restated.
  t.ok(inputs.every((input) => input.startsWith('src/client/') || input.startsWith('src/wire/')), `only src/client/ and src/wire/ are bundled: ${inputs.join(', ')}`)
  const code = result.outputFiles[0]?.text ?? ''
  t.notMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(|node:/, 'no Buffer, process, require or node: module')
  t.match(code, /export\{.*createClient/, 'createClient is exported')
})
