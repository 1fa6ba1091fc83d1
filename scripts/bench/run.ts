import type { ChildProcess } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { ContenderName } from './clients.js'
import { emptyResult, type ScenarioResult, type Sizes } from './lab.js'
import type { LoadJob } from './loadgen.js'
import { CONTENDERS, failuresOf, jsonSummary, type Results, type RunInfo, warningsOf, writeReport } from './report.js'
import { GROUPS, SCENARIOS, type ScenarioName, SLOW } from './scenarios.js'
import { BenchRedis, fileLimit, spawnNode, startInstance, stop } from './servers.js'

const HELP = `Benchmark eventgate against Socket.IO 4 (Redis adapter) and a bare ws + ioredis broadcaster.

Usage: npm run bench -- [options]

  --repeats <n>       runs of storm and fanout per contender, alternating contenders (default 5; 1 with --quick)
  --slow-repeats <n>  runs of workload, memory and scale, which connect 10,000 clients and more
                      (default 3, or --repeats if fewer)
  --quick             small sizes and short phases: a smoke test of the benchmark itself
  --scenario <name>   fanout, workload, storm, memory or scale; repeatable (default: all)
  --contender <name>  eventgate, socketio or bare; repeatable (default: all three)
  -h, --help          this text

A contender's turn starts two fresh instances of it on the benchmark's own redis-server and one
load-generator process, and runs storm then fanout, or memory, scale and workload, on the same
connections. Progress goes to stderr with the time elapsed. Writes a Markdown report to
bench/results/ and prints a one-line JSON summary on stdout; exits 1 if any delivery was lost,
duplicated or misaddressed. The default run takes about 15 minutes on two cores.`

/** The default sizes: what the targets are stated for. */
const FULL: Sizes = {
  subscribers: 1000,
  overloadRate: 200,
  overloadMs: 500,
  // 10,000 deliveries/s: a quarter of what the slowest contender sustains here, so latency is
  // measured on servers that keep up, not on a queue growing at the edge of their throughput.
  latencyRate: 10,
  latencyMs: 3000,
  workloadUsers: 10_000,
  admins: 5,
  workloadStartRate: 250,
  stepMs: 1500,
  stormConnections: 2000,
  memoryConnections: [5000, 20_000],
  scaleConnections: 20_000,
  scaleUserRate: 300,
  scaleFanoutRate: 20,
  scaleMs: 1500
}

const QUICK: Sizes = {
  ...FULL,
  subscribers: 200,
  latencyMs: 1000,
  workloadUsers: 1000,
  stepMs: 1000,
  stormConnections: 300,
  memoryConnections: [500, 2000],
  scaleConnections: 2000,
  scaleMs: 1000
}

/** Handshakes in flight at once: enough to keep two servers busy, few enough not to time out. */
const CONCURRENCY = 200
const RESULTS_DIR = 'bench/results'
const INSTANCES = 2
const TURN_TIMEOUT_MS = 600_000

const { values } = parseArgs({
  options: {
    repeats: { type: 'string' },
    'slow-repeats': { type: 'string' },
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

const count = (given: string | undefined, fallback: number, what: string): number => {
  const n = Number(given ?? fallback)
  return Number.isInteger(n) && n >= 1 && n <= 50 ? n : fail(`--${what} must be an integer from 1 to 50`)
}
const repeats = count(values.repeats, values.quick ? 1 : 5, 'repeats')
const slowRepeats = count(values['slow-repeats'], Math.min(3, repeats), 'slow-repeats')
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
  const [small, large] = wanted.memoryConnections
  return {
    ...wanted,
    memoryConnections: [Math.min(small, most), Math.min(large, most)],
    scaleConnections: Math.min(wanted.scaleConnections, most),
    workloadUsers: Math.min(wanted.workloadUsers, most - wanted.subscribers - wanted.admins)
  }
}

interface Turn {
  round: number
  contender: ContenderName
  group: ScenarioName[]
}

/**
 * Round r runs every group for every contender, who goes first rotating with r so any drift of
 * the machine is spread over all of them; the slow scenarios drop out after `slowRepeats` rounds.
 */
function plan (): Turn[] {
  const turns: Turn[] = []
  for (let round = 0; round < Math.max(repeats, slowRepeats); round++) {
    for (const all of GROUPS) {
      const group = all.filter((s) => scenarios.includes(s) && round < (SLOW.has(s) ? slowRepeats : repeats))
      if (group.length === 0) continue
      for (let i = 0; i < contenders.length; i++) turns.push({ round, contender: contenders[(i + round) % contenders.length] as ContenderName, group })
    }
  }
  return turns
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

const t0 = performance.now()
const clock = (ms: number): string => {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
const log = (line: string): void => { process.stderr.write(`[${clock(performance.now() - t0)}] ${line}\n`) }

/** One contender turn: fresh instances on an emptied Redis, one load generator, the group's scenarios. */
async function turn (contender: ContenderName, group: ScenarioName[], server: BenchRedis, done: (name: ScenarioName, result: ScenarioResult) => void): Promise<void> {
  const pending = new Set(group)
  await server.flush()
  // The load generator starts alongside the instances: it only waits for its job.
  const loadgen = await spawnNode(['--import', 'tsx', 'scripts/bench/loadgen.ts'], {})
  children.add(loadgen)
  const started = await Promise.allSettled(Array.from({ length: INSTANCES }, async () => {
    const instance = await startInstance(contender, server.env)
    children.add(instance.child)
    return instance
  }))
  const instances = started.flatMap((s) => s.status === 'fulfilled' ? [s.value] : [])
  try {
    const refused = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (refused !== undefined) throw refused.reason as Error
    const job: LoadJob = { contender, scenarios: group, servers: instances.map(({ port, controlPort }) => ({ port, controlPort })), sizes, concurrency: CONCURRENCY }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), TURN_TIMEOUT_MS)
      loadgen.on('message', (message: { log?: string, scenario?: ScenarioName, result?: ScenarioResult, done?: boolean }) => {
        if (message.log !== undefined) log(message.log)
        if (message.scenario !== undefined && message.result !== undefined) {
          pending.delete(message.scenario)
          done(message.scenario, message.result)
        }
        if (message.done !== true) return
        clearTimeout(timer)
        resolve()
      })
      loadgen.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`load generator exited with ${String(code)}`))
      })
      if (loadgen.exitCode !== null) reject(new Error(`load generator exited with ${loadgen.exitCode}`))
      else loadgen.send(job)
    })
  } catch (err) {
    for (const name of pending) done(name, { ...emptyResult(), failures: [(err as Error).message] })
  } finally {
    children.delete(loadgen)
    await Promise.all([loadgen, ...instances.map(({ child }) => child)].map(async (child) => {
      await stop(child)
      children.delete(child)
    }))
  }
}

function brief (result: ScenarioResult): string {
  const metrics = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(v >= 100 ? 0 : 2)}`).join(', ')
  const warned = result.warnings.length > 0 ? `; WARNING: ${result.warnings.join('; ')}` : ''
  return `${metrics}${result.failures.length > 0 ? `; FAILED: ${result.failures.join('; ')}` : ''}${warned}`
}

const started = new Date()
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
const machine = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join('/')}`
const sizesNote = `connections: fan-out ${sizes.subscribers}, workload ${sizes.workloadUsers}+${sizes.admins}, storm ${sizes.stormConnections}, memory ${sizes.memoryConnections.join('/')}, scale ${sizes.subscribers}/${sizes.scaleConnections}`
const conditions = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, nofile ${nofile}; ${sizesNote}; ${machine()} at start`
log(`bench: ${command}; ${conditions}`)

redis = await BenchRedis.start()
const results: Results = {}
const turns = plan()
/** Seconds each group's turns took so far, for the estimate of what is left. */
const spent = new Map<string, number[]>()
const estimate = (from: number): string => {
  let seconds = 0
  for (const t of turns.slice(from)) {
    const past = spent.get(t.group.join('+')) ?? []
    if (past.length === 0) return ''
    seconds += past.reduce((a, b) => a + b, 0) / past.length
  }
  return `, about ${clock(seconds * 1000)} left`
}
for (const [i, { round, contender, group }] of turns.entries()) {
  const key = group.join('+')
  log(`turn ${i + 1}/${turns.length}: round ${round + 1}, ${contender}, ${group.join(' + ')} (${machine()})`)
  const turnStart = performance.now()
  await turn(contender, group, redis, (scenario, result) => {
    ;((results[scenario] ??= {})[contender] ??= []).push(result)
    log(`  ${scenario} ${contender} #${round + 1}: ${brief(result)}`)
  })
  spent.set(key, [...spent.get(key) ?? [], (performance.now() - turnStart) / 1000])
  log(`turn ${i + 1}/${turns.length} done in ${clock(performance.now() - turnStart)}${estimate(i + 1)}`)
}
await cleanUp()

const durationS = (performance.now() - t0) / 1000
const info: RunInfo = { command, started, conditions: `${conditions}, ${machine()} at end`, repeats, slowRepeats, quick: values.quick, durationS }
const file = writeReport(RESULTS_DIR, results, info)
log(`bench: report in ${file}; ${failuresOf(results).length} failure(s), ${warningsOf(results).length} warning(s)`)
process.stdout.write(`${jsonSummary(results, info, file)}\n`)
process.exit(failuresOf(results).length > 0 ? 1 : 0)
