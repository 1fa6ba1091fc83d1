import { type ChaosCounts, type ChaosOptions, instanceKills, redisRestarts, subscriptionCuts } from '../harness/chaos.js'
import { commandLine } from './command-line.js'

const HELP = `Prove eventgate's delivery promise by killing real processes, for longer than CI does.

Usage: npm run chaos -- [options]

  --rate <n>          events published per second (default 200, at most 1000)
  --duration <s>      seconds of load per scenario, spread around its faults (default 20, at most 600)
  --subscribers <n>   WebSocket subscribers, two per user, spread over the instances (default 8, at most 200)
  --instances <n>     gateway processes (default 2, 2 to 8)
  --restarts <n>      faults per scenario: Redis restarts, subscription cuts, instance kills (default 3, at most 50)
  --scenario <name>   redis-restart, subscription-cut or instance-kill; repeatable (default: all three)
  --signal <name>     what ends an instance in instance-kill: SIGKILL (default) or SIGTERM (a drain)
  -h, --help          this text

Starts its own redis-server (append-only, fsynced) on a free loopback port and its own gateway
processes, publishes a steady stream with an Idempotency-Key per event (retried on 503 and on
connection errors until 202), and SIGKILLs Redis or a gateway mid-stream. Prints a table of
counts and exits 1 if any accepted event was lost, delivered twice, out of order or to the
wrong subscriber, or if events could not be accepted at all (the machine was overloaded).`

const SCENARIOS = {
  'redis-restart': redisRestarts,
  'subscription-cut': subscriptionCuts,
  'instance-kill': instanceKills
} as const
type Scenario = keyof typeof SCENARIOS

const { values, fail, integer } = commandLine('chaos', HELP, {
  rate: { type: 'string', default: '200' },
  duration: { type: 'string', default: '20' },
  subscribers: { type: 'string', default: '8' },
  instances: { type: 'string', default: '2' },
  restarts: { type: 'string', default: '3' },
  scenario: { type: 'string', multiple: true, default: [] },
  signal: { type: 'string', default: 'SIGKILL' }
})

const rate = integer('rate', 1, 1000)
const signal = values.signal === 'SIGKILL' || values.signal === 'SIGTERM' ? values.signal : fail('--signal must be SIGKILL or SIGTERM')
const duration = integer('duration', 1, 600)
const faults = integer('restarts', 1, 50)
const options: ChaosOptions = {
  rate,
  // Load before the first fault, between faults and after the last, adding up to --duration.
  phaseEvents: Math.max(1, Math.round(rate * duration / (faults + 1))),
  subscribers: integer('subscribers', 1, 200),
  instances: integer('instances', 2, 8),
  faults,
  signal,
  log: (line) => process.stderr.write(`  ${line}\n`)
}
const isScenario = (name: string): name is Scenario => Object.hasOwn(SCENARIOS, name)
const chosen: Scenario[] = values.scenario.length === 0 ? Object.keys(SCENARIOS) as Scenario[] : values.scenario.map((name) => isScenario(name) ? name : fail(`unknown --scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`))

/** Teardowns in reverse order of registration, as tap runs them. */
class Teardowns {
  private readonly fns: Array<() => unknown> = []
  teardown (fn: () => unknown): void {
    this.fns.push(fn)
  }

  async run (): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        await fn()
      } catch (err) {
        process.stderr.write(`chaos: cleanup failed: ${(err as Error).message}\n`)
      }
    }
  }

  /**
   * For an exit that cannot wait (a crash, an exit mid-run): starts every teardown without
   * awaiting it. The helpers send their SIGKILLs synchronously, so no redis-server or gateway
   * outlives the script.
   */
  abandon (): void {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        void Promise.resolve(fn()).catch(() => {})
      } catch {}
    }
  }
}

const COLUMNS: Array<keyof ChaosCounts> = [
  'scenario', 'faults', 'published', 'accepted', 'expected', 'delivered', 'lost', 'duplicates', 'outOfOrder',
  'unexpected', 'republished', 'gaveUp', 'unacknowledged', 'refused503', 'connectionErrors', 'reconnects', 'resumes', 'replayed', 'truncated', 'ms'
]

function table (rows: ChaosCounts[]): string {
  const cells = [COLUMNS.map(String), ...rows.map((r) => COLUMNS.map((c) => String(r[c])))]
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells.map((row) => row.map((cell, i) => i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)).join('  ')).join('\n')
}

/** Broken promises: what makes the run fail. */
function broken (c: ChaosCounts): string[] {
  const problems = { lost: c.lost, duplicates: c.duplicates, outOfOrder: c.outOfOrder, unexpected: c.unexpected, republished: c.republished, truncated: c.truncated, idCollisions: c.idCollisions }
  return Object.entries(problems).filter(([, n]) => n !== 0).map(([what, n]) => `BROKEN ${c.scenario}: ${n} ${what}`)
}

/** A run that proves nothing about the events it could not get accepted. */
function incomplete (c: ChaosCounts): string[] {
  const never = c.published - c.accepted
  if (never === 0) return []
  return [`INCOMPLETE ${c.scenario}: ${never} events never accepted within their deadline (${c.unacknowledged} deliveries of them): this machine could not keep up with --rate ${rate}; lower it`]
}

const rows: ChaosCounts[] = []
let interrupted = false
const current = { teardowns: new Teardowns() }
process.on('exit', () => { current.teardowns.abandon() })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    process.stderr.write(`chaos: ${signal}, cleaning up\n`)
    void current.teardowns.run().then(() => process.exit(130))
  })
}

let failed = false
for (const name of chosen) {
  process.stderr.write(`${name}: ${options.faults} faults, ${rate} events/s for about ${duration} s, ${options.subscribers} subscribers on ${options.instances} instances\n`)
  current.teardowns = new Teardowns()
  try {
    const counts = await SCENARIOS[name](current.teardowns, options)
    rows.push(counts)
    process.stdout.write(`${JSON.stringify(counts)}\n`)
  } catch (err) {
    if (interrupted) break
    failed = true
    process.stderr.write(`chaos: ${name} could not finish: ${(err as Error).message}\n`)
  } finally {
    await current.teardowns.run()
  }
}

process.stdout.write(`\n${table(rows)}\n`)
const problems = [...rows.flatMap(broken), ...rows.flatMap(incomplete)]
for (const problem of problems) process.stderr.write(`${problem}\n`)
process.exit(failed || problems.length > 0 ? 1 : 0)
