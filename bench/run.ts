import type { ChildProcess } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config.js'
import { BenchCluster } from './bench-cluster.js'
import type { ContenderName } from './clients.js'
import type { ScenarioResult, Sizes } from './lab.js'
import { CONTENDERS, failuresOf, jsonSummary, type Results, type RunInfo, warningsOf, writeReport } from './report.js'
import { GROUPS, SCENARIOS, type ScenarioName, SLOW } from './scenarios.js'
import { BenchRedis, fileLimit, type RedisSide, stop } from './servers.js'
import { type RedisKind, SETUPS } from './setups.js'
import { runTurn } from './turn.js'

const HELP = `Benchmark eventgate against Socket.IO 4 (Redis adapter) and a bare ws + ioredis broadcaster.

Usage: npm run bench -- [options]

  --repeats <n>       runs of storm and fanout per contender, alternating contenders (default 5; 1 with --quick)
  --slow-repeats <n>  runs of workload, memory, scale and cluster, which connect 10,000 clients
                      and more (default 3, or --repeats if fewer)
  --quick             small sizes and short phases: a smoke test of the benchmark itself
  --scenario <name>   fanout, workload, storm, memory, scale or cluster; repeatable
                      (default: all but cluster)
  --contender <name>  eventgate, socketio or bare; repeatable (default: all three)
  -h, --help          this text

A contender's turn starts two fresh instances of it on the benchmark's own redis-server and one
load-generator process, and runs storm then fanout, or memory, scale and workload, on the same
connections. The cluster scenario runs the same way on three setups: eventgate on a Redis
Cluster of 3 masters and 3 replicas the benchmark starts, eventgate on one redis-server, and
Socket.IO's sharded adapter on the cluster. REDIS_PARTITIONS, if set, is passed to every
eventgate instance and named in the report. Progress goes to stderr with the time elapsed.
Writes a Markdown report to bench/results/ and prints a one-line JSON summary on stdout; exits 1
if any delivery was lost, duplicated or misaddressed. The default run takes about 15 minutes on
two cores, --scenario cluster about 6 (under one with --quick).`

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
  batchRate: 20_000,
  stormConnections: 2000,
  memoryConnections: [5000, 20_000],
  scaleConnections: 20_000,
  scaleUserRate: 300,
  scaleFanoutRate: 20,
  scaleMs: 1500,
  clusterUsers: 10_000,
  // 1 event in 100 a broadcast to 100 subscribers: as many deliveries as the user events make.
  clusterAudience: 100,
  clusterBroadcastEvery: 100,
  // A third of what the slowest setup sustained in trials: latency is for servers that keep up.
  clusterRate: 250,
  clusterMs: 3000,
  clusterStartRate: 500,
  // One period of the instances' registry and canary writes (5 s each).
  clusterIdleMs: 5000
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
  scaleMs: 1000,
  clusterUsers: 1000,
  clusterMs: 1000,
  clusterIdleMs: 1000
}

/** Handshakes in flight at once: enough to keep two servers busy, few enough not to time out. */
const CONCURRENCY = 200
const RESULTS_DIR = 'bench/results'
/** The cluster scenario takes minutes of its own and starts six redis-servers: it runs when asked. */
const DEFAULT_SCENARIOS = SCENARIOS.filter((s) => s !== 'cluster')
/** The event log's partition count for eventgate instances; unset, each takes its default. */
const partitions = process.env.REDIS_PARTITIONS
/** The partitions an eventgate instance given `env` runs, as the gateway's own configuration resolves them. */
const partitionsOf = (env: Record<string, string>): number => loadConfig({ NODE_ENV: 'test', ...env }).partitions

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
const pick = <T extends string>(given: string[], all: readonly T[], fallback: readonly T[], what: string): T[] =>
  given.length === 0 ? [...fallback] : given.map((g) => (all as readonly string[]).includes(g) ? g as T : fail(`unknown --${what} ${g}; one of ${all.join(', ')}`))
const scenarios = pick<ScenarioName>(values.scenario, SCENARIOS, DEFAULT_SCENARIOS, 'scenario')
const contenders = pick<ContenderName>(values.contender, CONTENDERS, CONTENDERS, 'contender')
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
    workloadUsers: Math.min(wanted.workloadUsers, most - wanted.subscribers - wanted.admins),
    clusterUsers: Math.min(wanted.clusterUsers, most - wanted.clusterAudience)
  }
}

/** Who a turn measures: a contender, or for the cluster scenario one of its setups. */
interface Column {
  /** The results' key: the contender's name, or the setup's. */
  column: string
  contender: ContenderName
  redis: RedisKind
}

interface Turn extends Column {
  round: number
  group: ScenarioName[]
}

const columnsOf = (group: readonly ScenarioName[]): Column[] => group.includes('cluster')
  ? SETUPS.filter((s) => contenders.includes(s.contender)).map((s) => ({ column: s.name, contender: s.contender, redis: s.redis }))
  : contenders.map((c) => ({ column: c, contender: c, redis: 'single' }))

/**
 * Round r runs every group for every contender (or setup), who goes first rotating with r so any
 * drift of the machine is spread over all of them; the slow scenarios drop out after
 * `slowRepeats` rounds.
 */
function plan (): Turn[] {
  const turns: Turn[] = []
  for (let round = 0; round < Math.max(repeats, slowRepeats); round++) {
    for (const all of GROUPS) {
      const group = all.filter((s) => scenarios.includes(s) && round < (SLOW.has(s) ? slowRepeats : repeats))
      const columns = columnsOf(group)
      if (group.length === 0) continue
      for (let i = 0; i < columns.length; i++) turns.push({ round, group, ...columns[(i + round) % columns.length] as Column })
    }
  }
  return turns
}

const children = new Set<ChildProcess>()
/** Started at the first turn that needs each, stopped at the end. */
const sides: Partial<Record<RedisKind, RedisSide>> = {}

async function redisFor (kind: RedisKind): Promise<RedisSide> {
  return (sides[kind] ??= kind === 'cluster' ? await BenchCluster.start() : await BenchRedis.start())
}

async function cleanUp (): Promise<void> {
  await Promise.all([...children].map(stop))
  await Promise.all(Object.values(sides).map(async (side) => await side.stop()))
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void cleanUp().then(() => process.exit(130)) })
}
// A fault of the runner's own must not leave the instances and six redis-servers running.
process.once('uncaughtException', (err) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`)
  void cleanUp().then(() => process.exit(2))
})

const t0 = performance.now()
const clock = (ms: number): string => {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
const log = (line: string): void => { process.stderr.write(`[${clock(performance.now() - t0)}] ${line}\n`) }

function brief (result: ScenarioResult): string {
  // A NaN measure arrives as null: the load generator's messages are JSON.
  const metrics = Object.entries(result.metrics).map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : 2) : '–'}`).join(', ')
  const warned = result.warnings.length > 0 ? `; WARNING: ${result.warnings.join('; ')}` : ''
  return `${metrics}${result.failures.length > 0 ? `; FAILED: ${result.failures.join('; ')}` : ''}${warned}`
}

const started = new Date()
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
const machine = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join('/')}`
const sizesNote = `connections: fan-out ${sizes.subscribers}, workload ${sizes.workloadUsers}+${sizes.admins}, storm ${sizes.stormConnections}, memory ${sizes.memoryConnections.join('/')}, scale ${sizes.subscribers}/${sizes.scaleConnections}, cluster ${sizes.clusterAudience}+${sizes.clusterUsers}`
const conditions = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, nofile ${nofile}; ${sizesNote}; REDIS_PARTITIONS ${partitions ?? 'unset'}; ${machine()} at start`
log(`bench: ${command}; ${conditions}`)

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
for (const [i, { round, column, contender, redis, group }] of turns.entries()) {
  const key = group.join('+')
  log(`turn ${i + 1}/${turns.length}: round ${round + 1}, ${column}, ${group.join(' + ')} (${machine()})`)
  const turnStart = performance.now()
  const env: Record<string, string> = contender === 'eventgate' && partitions !== undefined ? { REDIS_PARTITIONS: partitions } : {}
  const side = await redisFor(redis)
  await runTurn({
    contender,
    group,
    redis: side,
    env,
    sizes,
    concurrency: CONCURRENCY,
    log,
    done: (scenario, result) => {
      if (scenario === 'cluster' && contender === 'eventgate') result.metrics.partitions = partitionsOf({ ...side.env, ...env })
      ;((results[scenario] ??= {})[column] ??= []).push(result)
      log(`  ${scenario} ${column} #${round + 1}: ${brief(result)}`)
    }
  }, children)
  spent.set(key, [...spent.get(key) ?? [], (performance.now() - turnStart) / 1000])
  log(`turn ${i + 1}/${turns.length} done in ${clock(performance.now() - turnStart)}${estimate(i + 1)}`)
}
await cleanUp()

const durationS = (performance.now() - t0) / 1000
const clusterWorkload = `${sizes.clusterUsers.toLocaleString('en-US')} users and an audience of ${sizes.clusterAudience}, one connection each, over two instances; each event to one user in turn, one in ${sizes.clusterBroadcastEvery} a broadcast to the audience, no admin. Latency, CPU, commands and ingress at a fixed ${sizes.clusterRate} events/s for ${sizes.clusterMs / 1000} s, then the capacity search from ${sizes.clusterStartRate} events/s (steps of ${sizes.stepMs / 1000} s), then half the capacity published through one instance only.`
const info: RunInfo = { command, started, conditions: `${conditions}, ${machine()} at end`, repeats, slowRepeats, quick: values.quick, durationS, partitions, clusterWorkload }
const file = writeReport(RESULTS_DIR, results, info)
log(`bench: report in ${file}; ${failuresOf(results).length} failure(s), ${warningsOf(results).length} warning(s)`)
process.stdout.write(`${jsonSummary(results, info, file)}\n`)
process.exit(failuresOf(results).length > 0 ? 1 : 0)
