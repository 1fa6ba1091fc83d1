import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundle } from '../routes/bundles.js'
import { dashboardStylesheet } from '../routes/dashboard-stylesheet.js'
import { withBuildLock } from './build-lock.js'
import { commandLine } from './command-line.js'
import { sourceFingerprint } from './source-fingerprint.js'

const HELP = `Compile the gateway into dist/ and bundle its browser scripts there: the dashboard's
and the client SDK's (GET /client.js).

Usage: npm run build [-- --if-stale]

  --if-stale   build only if the sources changed since dist/ was built (npm start does this)
  -h, --help   this text

One build runs at a time: a second waits for the first, and with --if-stale then finds dist/
current. dist/ is replaced whole once the build succeeded, never written in place.`

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(ROOT, 'dist')
/** Siblings of dist/, so that the source maps' relative paths hold once the staging folder becomes dist/. */
const STAGING = join(ROOT, 'dist.next')
const REPLACED = join(ROOT, 'dist.old')
const LOCK = join(ROOT, 'dist.lock')
/** In dist/: the fingerprint of the sources it was built from. */
const STAMP = '.sources'
/** Everything the build reads, the build itself included. */
const INPUTS = [
  'app.ts', 'server.ts', 'src', 'plugins', 'routes', 'dashboard',
  'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json',
  'scripts/build.ts', 'scripts/build-lock.ts', 'scripts/source-fingerprint.ts'
]
/** The dashboard's page, served as it is; its stylesheet is joined to uPlot's, its script bundled. */
const DASHBOARD_PAGE = 'index.html'

const { values } = commandLine('build', HELP, { 'if-stale': { type: 'boolean', default: false } })

try {
  process.stdout.write(`build: ${await withBuildLock(LOCK, build)}\n`)
} catch (err) {
  process.stderr.write(`build: ${(err as Error).message}\n`)
  process.exitCode = 1
}

/** Builds into a staging folder, then puts it in the place of dist/; says what it did. */
async function build (): Promise<string> {
  const started = performance.now()
  const fingerprint = sourceFingerprint(ROOT, INPUTS)
  if (values['if-stale'] && builtFrom() === fingerprint) return 'dist/ is current'
  // A build killed half-way leaves these behind.
  for (const dir of [STAGING, REPLACED]) rmSync(dir, { recursive: true, force: true })
  try {
    compile(STAGING)
    await dashboard(join(STAGING, 'dashboard'))
    await browser(join(STAGING, 'browser'))
    writeFileSync(join(STAGING, STAMP), fingerprint)
    try {
      renameSync(DIST, REPLACED)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    renameSync(STAGING, DIST)
  } finally {
    for (const dir of [STAGING, REPLACED]) rmSync(dir, { recursive: true, force: true })
  }
  return `dist/ built in ${((performance.now() - started) / 1000).toFixed(1)} s`
}

/** The fingerprint dist/ was built from, if there is a complete build. */
function builtFrom (): string | undefined {
  try {
    return readFileSync(join(DIST, STAMP), 'utf8')
  } catch {
    return undefined
  }
}

function compile (outDir: string): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const { status } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, stdio: 'inherit' })
  if (status !== 0) throw new Error(`tsc failed (exit ${String(status)})`)
}

async function dashboard (dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  copyFileSync(join(ROOT, 'dashboard', DASHBOARD_PAGE), join(dir, DASHBOARD_PAGE))
  writeFileSync(join(dir, 'dashboard.css'), dashboardStylesheet())
  writeFileSync(join(dir, 'app.js'), await bundle('dashboard'))
}

/** What the gateway serves to pages of their own: the SDK at GET /client.js. */
async function browser (dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'client.js'), await bundle('client'))
}
