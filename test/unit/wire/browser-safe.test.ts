import { readdirSync } from 'node:fs'
import { build } from 'esbuild'
import t from 'tap'

t.test('every module of the wire contract bundles for browsers on its own, with nothing from outside src/wire/', async (t) => {
  const dir = new URL('../../../src/wire/', import.meta.url)
  const modules = readdirSync(dir).filter((name) => name.endsWith('.ts'))
  t.ok(modules.length >= 7, `the wire modules: ${modules.join(', ')}`)
  for (const name of modules) {
    const result = await build({
      entryPoints: [new URL(name, dir).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent'
    })
    const inputs = Object.keys(result.metafile.inputs)
    t.ok(inputs.every((input) => input.startsWith('src/wire/')), `${name} imports only src/wire/: ${inputs.join(', ')}`)
    t.notMatch(result.outputFiles[0]?.text ?? '', /\bBuffer\b|\bprocess\.|\brequire\(|node:/, `${name}: no Buffer, process, require or node: module`)
  }
})
