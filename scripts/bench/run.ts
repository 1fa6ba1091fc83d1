import type { ChildProcess } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import type { ContenderName } from './clients.js'
import type { LoadJob } from './loadgen.js'
import { CONTENDERS, failuresOf, jsonSummary, type Results, type RunInfo, writeReport } from './report.js'
import { SCENARIOS, type ScenarioName, type ScenarioResult, type Sizes } from './scenarios.js'
import { BenchRedis, fileLimit, spawnNode, startInstance, stop } from './servers.js'

const HELP = `Benchmark eventgate against Socket.IO 4 (Redis adapter) and a bare ws + ioredis broadcaster.

Usage: npm run bench -- [options]

  --repeats <n>       runs of every scenario per contender, alternating contenders (default 5; 1 with --quick)
  --quick             small sizes and short phases: a smoke test of the benchmark itself
  --scenario <name>   fanout, workload, storm, memory or scale; repeatable (default: all)
  --contender <name>  eventgate, socketio or bare; repeatable (default: all three)
  -h, --help          this text

Each run starts its own redis-server on a free port, two fresh instances of the contender on it
and one load-generator process. Writes a Markdown report to bench/results/ and prints a one-line
JSON summary on stdout; exits 1 if any delivery was lost, duplicated or misaddressed.`

/**
 * The default sizes: what the targets are stated for. Phases are kept to a few seconds so five
 * repeats of everything finish in about 15 minutes on two cores.
 */
const FULL: Sizes = {
  fanoutSubscribers: 1000,
  overloadRate: 200,
  overloadMs: 2000,
  latencyRate: 40,
  latencyMs: 2000,
  workloadUsers: 10_000,
  admins: 5,
  workloadRates: [250, 500, 1000, 2000, 4000],
  stepMs: 1500,
  stormConnections: 2000,
  memoryConnections: [5000, 20_000],
  scaleConnections: [1000, 20_000],
  scaleUserRate: 300,
  scaleFanoutRate: 20,
  scaleMs: 1500
}

const QUICK: Sizes = {
  ...FULL,
  fanoutSubscribers: 200,
  overloadMs: 1000,
  latencyMs: 1000,
  workloadUsers: 1000,
  workloadRates: [250, 1000],
  stepMs: 1000,
  stormConnections: 300,
  memoryConnections: [500, 2000],
  scaleConnections: [200, 2000],
  scaleMs: 1000
}

/** Handshakes in flight at once: enough to keep two servers busy, few enough not to time out. */
const CONCURRENCY = 200
const RESULTS_DIR = 'bench/results'
const INSTANCES = 2
const TRIAL_TIMEOUT_MS = 300_000

const { values } = parseArgs({
  options: {
    repeats: { type: 'string' },
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true, default: [] },
    contender: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

function fail (message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

if (values.help) {
  process.stdout.write(`${HELP}\n`)
  process.exit(0)
}

const repeats = Number(values.repeats ?? (values.quick ? 1 : 5))
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 50) fail('--repeats must be an integer from 1 to 50')
const pick = <T extends string>(given: string[], all: readonly T[], what: string): T[] =>
  given.length === 0 ? [...all] : given.map((g) => (all as readonly string[]).includes(g) ? g as T : fail(`unknown --${what} ${g}; one of ${all.join(', ')}`))
const scenarios = pick<ScenarioName>(values.scenario, SCENARIOS, 'scenario')
const contenders = pick<ContenderName>(values.contender, CONTENDERS, 'contender')
/** Descriptors the load generator keeps for itself: its publisher's sockets, Redis, the IPC. */
const SPARE_FDS = 500
const nofile = await fileLimit()
const sizes = fitted(values.quick ? QUICK : FULL, nofile - SPARE_FDS)

/** The sizes, with connection counts above what the load generator may open cut down to it. */
function fitted (wanted: Sizes, most: number): Sizes {
  const fit = ([small, large]: [number, number]): [number, number] => [Math.min(small, most), Math.min(large, most)]
  return { ...wanted, memoryConnections: fit(wanted.memoryConnections), scaleConnections: fit(wanted.scaleConnections), workloadUsers: Math.min(wanted.workloadUsers, most - wanted.admins) }
}

const children = new Set<ChildProcess>()
let redis: BenchRedis | undefined

async function cleanUp (): Promise<void> {
  await Promise.all([...children].map(stop))
  await redis?.stop()
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void cleanUp().then(() => process.exit(130)) })
}

const log = (line: string): void => { process.stderr.write(`${line}\n`) }

/** One scenario against one contender: fresh instances on an emptied Redis, one load generator. */
async function trial (contender: ContenderName, scenario: ScenarioName, server: BenchRedis): Promise<ScenarioResult> {
  const flush = new Redis(server.url)
  await flush.flushall()
  flush.disconnect()
  const instances = []
  try {
    for (let i = 0; i < INSTANCES; i++) {
      const instance = await startInstance(contender, server.url)
      children.add(instance.child)
      instances.push(instance)
    }
    const loadgen = await spawnNode(['--import', 'tsx', 'scripts/bench/loadgen.ts'], {})
    children.add(loadgen)
    const job: LoadJob = { contender, scenario, servers: instances.map(({ port, controlPort }) => ({ port, controlPort })), sizes, concurrency: CONCURRENCY }
    return await new Promise<ScenarioResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), TRIAL_TIMEOUT_MS)
      loadgen.on('message', (message: { log?: string, result?: ScenarioResult }) => {
        if (message.log !== undefined) log(message.log)
        if (message.result === undefined) return
        clearTimeout(timer)
        resolve(message.result)
      })
      loadgen.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`load generator exited with ${String(code)}`))
      })
      loadgen.send(job)
    }).finally(() => {
      children.delete(loadgen)
      void stop(loadgen)
    })
  } catch (err) {
    return { metrics: {}, lost: 0, duplicates: 0, unexpected: 0, failures: [(err as Error).message] }
  } finally {
    for (const { child } of instances) {
      await stop(child)
      children.delete(child)
    }
  }
}

function brief (result: ScenarioResult): string {
  const metrics = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(v >= 100 ? 0 : 2)}`).join(', ')
  return `${metrics}${result.failures.length > 0 ? `; FAILED: ${result.failures.join('; ')}` : ''}`
}

const started = new Date()
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
const machine = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join('/')}`
const sizesNote = `connections: fan-out ${sizes.fanoutSubscribers}, workload ${sizes.workloadUsers}+${sizes.admins}, storm ${sizes.stormConnections}, memory ${sizes.memoryConnections.join('/')}, scale ${sizes.scaleConnections.join('/')}`
const conditions = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, nofile ${nofile}; ${sizesNote}; ${machine()} at start`
log(`bench: ${command}; ${conditions}`)

redis = await BenchRedis.start()
const results: Results = {}
const total = repeats * scenarios.length * contenders.length
let done = 0
for (let r = 0; r < repeats; r++) {
  for (const scenario of scenarios) {
    // Alternating who goes first spreads any drift of the machine over all contenders.
    const order = contenders.map((_, i) => contenders[(i + r) % contenders.length] as ContenderName)
    for (const contender of order) {
      const t0 = performance.now()
      const result = await trial(contender, scenario, redis)
      const perScenario = results[scenario] ??= {}
      ;(perScenario[contender] ??= []).push(result)
      done++
      log(`[${done}/${total}] ${scenario} ${contender} #${r + 1} (${((performance.now() - t0) / 1000).toFixed(1)} s, ${machine()}): ${brief(result)}`)
    }
  }
}
await cleanUp()

const info: RunInfo = { command, started, conditions: `${conditions}, ${machine()} at end`, repeats, quick: values.quick }
const file = writeReport(RESULTS_DIR, results, info)
log(`bench: report in ${file}`)
process.stdout.write(`${jsonSummary(results, info, file)}\n`)
process.exit(failuresOf(results).length > 0 ? 1 : 0)
