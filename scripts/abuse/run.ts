import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { commandLine } from '../command-line.js'
import type { Check, CheckContext, Outcome, Sizes } from './check.js'
import { historyEviction } from './history-eviction.js'
import { idleSockets } from './idle-sockets.js'
import { Lab, TIMEOUTS, unknownSettings } from './lab.js'
import { Legit } from './legit.js'
import { forgedReauth, thirdPartyLockout } from './lockout.js'
import { Window } from './measure.js'
import { oversizedSubscribe, postCloseFlood } from './post-close.js'
import { resumeFlood } from './resume-flood.js'
import { revocationOutage } from './revocation-outage.js'
import { connectionCap, cookiePost, deepData, fragmentToken, idempotencyCollision, openMetrics } from './small-holes.js'
import { stalledUploads } from './stalled-uploads.js'
import { legitOk, markdownTable, type Row } from './table.js'

const HELP = `Attack two production eventgate instances and check that every limit holds.

Usage: npm run abuse -- [options]

  --quick          smaller volumes (about a minute instead of three)
  --only <text>    run only the checks whose name contains <text>; repeatable
  --write          also write the table to scripts/abuse/results/latest.md, and everything
                   measured to latest.json beside it
  --results <dir>  where --write writes (default scripts/abuse/results)
  -h, --help       this text

Starts its own redis-server and two gateway instances (NODE_ENV=production, JWT_SECRET and
METRICS_TOKEN set, ${Object.entries(TIMEOUTS).map(([k, v]) => `${k}=${v}`).join(', ')}), then runs each
attack while a control user on instance B receives events published on instance A and both
instances' /ws/health is polled. Prints a Markdown table (attack, limit, held, what was observed,
the instances' peak RSS growth and CPU seconds, the legitimate traffic) and exits 1 if any limit
did not hold or any legitimate delivery or health check failed. The last check stops Redis and
starts it again: the 503s that publishes and health checks get meanwhile, as documented, are
counted apart.`

const FULL: Sizes = {
  historyEvents: 1100,
  historyMaxEvents: 1200,
  stalledUploads: 300,
  idleSockets: 2000,
  keptEvents: 300,
  floodMs: 20_000,
  framesAfterClose: 20_000,
  timeoutBoundMs: 15_000
}

const QUICK: Sizes = {
  ...FULL,
  historyEvents: 500,
  historyMaxEvents: 600,
  stalledUploads: 100,
  idleSockets: 500,
  keptEvents: 100,
  floodMs: 6000,
  framesAfterClose: 2000,
  timeoutBoundMs: 8000
}

/**
 * In the order they run: the resume flood next to last, its large history would skew the others'
 * Redis figures; the Redis outage last, it leaves Redis empty.
 */
const CHECKS: Check[] = [
  stalledUploads, idleSockets, historyEviction, thirdPartyLockout, forgedReauth, postCloseFlood, oversizedSubscribe,
  fragmentToken, cookiePost, openMetrics, connectionCap, idempotencyCollision, deepData, resumeFlood, revocationOutage
]
/** A check that has not finished by then failed; the run goes on with the next. */
const CHECK_TIMEOUT_MS = 120_000
const RESULTS = fileURLToPath(new URL('./results', import.meta.url))

/** The commit the instances ran, with `+` when the tree had changes: what a written result is about. */
function revision (): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'plugins', 'routes'], { encoding: 'utf8' }).trim() !== ''
    return `commit ${commit}${dirty ? '+' : ''}`
  } catch {
    return 'commit unknown'
  }
}

const { values, fail } = commandLine('abuse', HELP, {
  quick: { type: 'boolean', default: false },
  only: { type: 'string', multiple: true, default: [] },
  write: { type: 'boolean', default: false },
  results: { type: 'string' }
})

const sizes = values.quick ? QUICK : FULL
const checks = CHECKS.filter((c) => values.only.length === 0 || values.only.some((text) => c.attack.includes(text)))
if (checks.length === 0) fail(`no check matches ${values.only.join(', ')}; the checks are: ${CHECKS.map((c) => c.attack).join(', ')}`)
const t0 = performance.now()
const log = (line: string): void => { process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`) }

async function bounded (promise: Promise<Outcome>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<Outcome>((resolve) => { timer = setTimeout(() => resolve({ held: false, observed: `did not finish within ${ms / 1000} s` }), ms) })
  try {
    return await Promise.race([promise.catch((err: unknown) => ({ held: false, observed: `failed: ${(err as Error).message.slice(0, 200)}` })), late])
  } finally {
    clearTimeout(timer)
  }
}

async function runCheck (lab: Lab, check: Check): Promise<Row> {
  const restarted = await lab.revive()
  if (restarted.length > 0) log(`  restarted ${restarted.join(', ')}, ended by the previous attack`)
  // Made once `prepare` is done: what it spends is not the attack's.
  let window: Window | undefined
  const ctx: CheckContext = { lab, sizes, log: (line) => log(`  ${line}`), growthMb: (instance) => window?.growthMb(instance) ?? 0 }
  let prepared: Outcome | undefined
  if (check.prepare !== undefined) prepared = await bounded(check.prepare(ctx).then(() => ({ held: true, observed: '' })), CHECK_TIMEOUT_MS)
  window = new Window(lab.instances)
  const legit = new Legit(lab)
  await legit.start()
  const outcome = prepared?.held === false ? prepared : await bounded(check.run(ctx), CHECK_TIMEOUT_MS)
  // One the check left open (it failed or timed out) ends with it: what follows is not excused.
  lab.endOutage()
  const figures = await legit.stop()
  const spent = window.stop()
  for (const instance of [lab.a, lab.b]) {
    if (!instance.alive) log(`  ${instance.name} died; its last lines:\n${instance.output.recent.slice(-5).join('\n')}`)
  }
  const held = outcome.held && spent.died.length === 0 && (check.healthIsLimit !== true || figures.healthFailures === 0)
  return { attack: check.attack, limit: check.limit, held, observed: outcome.observed, spent, legit: figures }
}

const lab = await Lab.start(sizes.historyMaxEvents).catch((err: unknown) => {
  process.stderr.write(`abuse: could not start the deployment: ${(err as Error).message}\n`)
  process.exit(2)
})
process.once('exit', () => lab.killAll())
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))

const unknown = unknownSettings(Object.keys(TIMEOUTS))
if (unknown.length > 0) log(`this gateway has no ${unknown.join(' or ')}: its own defaults apply`)
log(`${values.quick ? 'quick' : 'default'} run: redis ${lab.redisServer.url}, instances A :${lab.a.port}, B :${lab.b.port}`)

const rows: Row[] = []
try {
  for (const check of checks) {
    log(`${check.attack}`)
    const row = await runCheck(lab, check)
    log(`  ${row.held ? 'held' : 'NOT HELD'}: ${row.observed}`)
    rows.push(row)
  }
  await lab.stop()
} catch (err) {
  // An instance that an attack ended and that does not start again: the rest cannot be measured.
  process.stderr.write(`abuse: ${(err as Error).message}\n`)
  process.exit(2)
}

rows.sort((x, y) => parseInt(x.attack) - parseInt(y.attack))
const table = markdownTable(rows)
const failed = rows.filter((r) => !r.held).length
const lost = rows.filter((r) => !legitOk(r)).length
const seconds = (performance.now() - t0) / 1000
const summary = `${rows.length - failed} of ${rows.length} limits held; legitimate traffic ${lost === 0 ? 'intact' : `hurt during ${lost} attack(s)`}; ${seconds.toFixed(0)} s`
process.stdout.write(`${table}\n\n${summary}\n`)

if (values.write) {
  const dir = values.results ?? RESULTS
  mkdirSync(dir, { recursive: true })
  const about = `\`npm run abuse${values.quick ? ' -- --quick' : ''}\` on ${revision()}, ${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} CPUs, Node ${process.version}` +
    `${unknown.length > 0 ? `; the gateway had no ${unknown.join(' or ')}` : ''}`
  writeFileSync(join(dir, 'latest.md'), `# Abuse suite: latest run\n\n${about}\n\n${table}\n\n${summary}\n`)
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ about, sizes, unknownSettings: unknown, rows, summary }, null, 2)}\n`)
  log(`wrote ${join(dir, 'latest.md')} and latest.json`)
}
process.exit(failed === 0 && lost === 0 ? 0 : 1)
