import { type ClientSpec, type ContenderName, Fleet } from './clients.js'
import type { PublishJob, PublishResult } from './publisher-worker.js'
import { quantile } from './stats.js'
import { Tally } from './tally.js'

export const SCENARIOS = ['fanout', 'workload', 'storm', 'memory', 'scale'] as const
export type ScenarioName = typeof SCENARIOS[number]

/** Sizes and durations of one run; `--quick` shrinks them to a smoke test. */
export interface Sizes {
  fanoutSubscribers: number
  overloadRate: number
  overloadMs: number
  latencyRate: number
  latencyMs: number
  workloadUsers: number
  admins: number
  workloadRates: number[]
  stepMs: number
  stormConnections: number
  memoryConnections: [number, number]
  scaleConnections: [number, number]
  scaleUserRate: number
  scaleFanoutRate: number
  scaleMs: number
}

export interface ScenarioContext {
  contender: ContenderName
  wsBases: string[]
  sizes: Sizes
  /** Handshakes in flight at once while connecting. */
  concurrency: number
  publish: (job: Omit<PublishJob, 'targets' | 'token'>) => Promise<PublishResult>
  /** CPU microseconds used by all the contender's instances so far. */
  cpu: () => Promise<number>
  /** RSS bytes of all the contender's instances, after a full GC in each. */
  memory: () => Promise<number>
  log: (line: string) => void
}

/** What a scenario measured, and what went wrong: any loss, duplicate or failure fails the run. */
export interface ScenarioResult {
  metrics: Record<string, number>
  lost: number
  duplicates: number
  unexpected: number
  failures: string[]
}

const TOPIC = 'bench'
/** A phase is over when everything due arrived, or nothing arrived for this long. */
const QUIET_MS = 5000
/** The real workload's bar: a rate is sustainable while p99 publish→receive stays within it. */
const P99_BOUND_MS = 100
const WARM_RATE = 50
const WARM_MS = 1000
const IDLE_MS = 1000

const users = (from: number, to: number, topic = TOPIC): ClientSpec[] =>
  Array.from({ length: to - from }, (_, i) => ({ user: `u${from + i}`, admin: false, topic }))
const admins = (count: number): ClientSpec[] =>
  Array.from({ length: count }, (_, i) => ({ user: `admin-${i}`, admin: true, topic: TOPIC }))

interface PhaseOptions {
  rate: number
  durationMs: number
  /** User-addressed events go to the clients 0…users-1 (`u0`…), in turn. */
  users?: number
  /** Clients every event reaches: the subscribers of a fan-out, the admins of user events. */
  everyEvent: { from: number, count: number }
  latency: boolean
}

interface Phase {
  tally: Tally
  published: PublishResult
  cpuMicros: number
  /** From the first publish to the last delivery. */
  wallMs: number
  /** Over which `cpuMicros` was measured. */
  windowMs: number
}

class Run {
  private seq = 0
  readonly result: ScenarioResult = { metrics: {}, lost: 0, duplicates: 0, unexpected: 0, failures: [] }

  constructor (readonly ctx: ScenarioContext, readonly fleet: Fleet) {}

  async phase (name: string, options: PhaseOptions): Promise<Phase> {
    const firstSeq = this.seq
    const count = Math.round(options.rate * options.durationMs / 1000)
    this.seq += count
    const { from, count: every } = options.everyEvent
    const direct = options.users === undefined ? 0 : 1
    const userCount = options.users ?? 0
    const tally = new Tally(count * (direct + every), (client, seq) => {
      const k = seq - firstSeq
      if (k < 0 || k >= count) return -1
      if (client >= from && client < from + every) return (direct + client - from) * count + k
      return direct === 1 && client === seq % userCount ? k : -1
    }, options.latency)
    this.fleet.onEvent(tally.record)
    const start = performance.now()
    const cpu0 = await this.ctx.cpu()
    const t0 = performance.now()
    const published = await this.ctx.publish({
      rate: options.rate,
      durationMs: options.durationMs,
      firstSeq,
      type: `${TOPIC}.${options.users === undefined ? 'fanout' : 'user'}`,
      ...(options.users === undefined ? {} : { users: { base: 0, count: options.users } })
    })
    await tally.drained(QUIET_MS)
    const cpuMicros = await this.ctx.cpu() - cpu0
    this.fleet.onEvent(() => {})
    this.account(name, tally, published)
    return { tally, published, cpuMicros, wallMs: tally.lastAt - t0, windowMs: performance.now() - start }
  }

  /** Opens connections; resolves with the rate at which they became subscribed. */
  async open (specs: ClientSpec[]): Promise<number> {
    const t0 = performance.now()
    await this.fleet.open(specs, this.ctx.concurrency)
    return specs.length / (performance.now() - t0) * 1000
  }

  private account (name: string, tally: Tally, published: PublishResult): void {
    this.result.lost += tally.lost
    this.result.duplicates += tally.duplicates
    this.result.unexpected += tally.unexpected
    if (published.failed > 0) this.result.failures.push(`${name}: ${published.failed} publishes failed (${published.failure ?? ''})`)
    if (tally.lost > 0) this.result.failures.push(`${name}: ${tally.lost} of ${tally.expected} deliveries lost`)
    if (this.fleet.unexpectedCloses.length > 0) {
      this.result.failures.push(`${name}: servers closed ${this.fleet.unexpectedCloses.length} connections (codes ${[...new Set(this.fleet.unexpectedCloses)].join(', ')})`)
      this.fleet.unexpectedCloses.length = 0
    }
  }

  warm (subscribers: { from: number, count: number }, userCount?: number): Promise<Phase> {
    return this.phase('warm-up', { rate: WARM_RATE, durationMs: WARM_MS, users: userCount, everyEvent: subscribers, latency: false })
  }
}

/** (1) Fan-out: N subscribers of one pattern; an overload's throughput and CPU, then latency at a sane rate. */
async function fanout (run: Run): Promise<void> {
  const { sizes } = run.ctx
  const subscribers = { from: 0, count: sizes.fanoutSubscribers }
  await run.open(users(0, sizes.fanoutSubscribers))
  await run.warm(subscribers)
  const overload = await run.phase('overload', { rate: sizes.overloadRate, durationMs: sizes.overloadMs, everyEvent: subscribers, latency: false })
  run.result.metrics.deliveriesPerSec = overload.tally.delivered / overload.wallMs * 1000
  run.result.metrics.cpuPerDeliveryUs = overload.cpuMicros / overload.tally.delivered
  const steady = await run.phase('latency', { rate: sizes.latencyRate, durationMs: sizes.latencyMs, everyEvent: subscribers, latency: true })
  const latencies = steady.tally.sortedLatencies()
  run.result.metrics.p50Ms = quantile(latencies, 0.5)
  run.result.metrics.p99Ms = quantile(latencies, 0.99)
}

/** (2) One user per connection, each event to one user and every admin; rates stepped up until p99 > 100 ms. */
async function workload (run: Run): Promise<void> {
  const { sizes } = run.ctx
  const n = sizes.workloadUsers
  await run.open([...users(0, n), ...admins(sizes.admins)])
  const dashboards = { from: n, count: sizes.admins }
  await run.warm(dashboards, n)
  let sustained = 0
  for (const rate of sizes.workloadRates) {
    const step = await run.phase(`${rate}/s`, { rate, durationMs: sizes.stepMs, users: n, everyEvent: dashboards, latency: true })
    const p99 = quantile(step.tally.sortedLatencies(), 0.99)
    const onTime = !step.published.saturated && step.published.elapsedMs < sizes.stepMs + P99_BOUND_MS
    run.ctx.log(`  ${rate} events/s: p99 ${p99.toFixed(1)} ms${onTime ? '' : ', publisher fell behind'}`)
    run.result.metrics[`p99At${rate}Ms`] = p99
    if (p99 > P99_BOUND_MS || !onTime || step.tally.lost > 0) break
    sustained = rate
  }
  run.result.metrics.sustainedRate = sustained
}

/** (3) Connection storm: connect, authenticate and subscribe as fast as the servers take it. */
async function storm (run: Run): Promise<void> {
  const n = run.ctx.sizes.stormConnections
  const cpu0 = await run.ctx.cpu()
  run.result.metrics.connectsPerSec = await run.open(users(0, n))
  run.result.metrics.cpuPerConnectUs = (await run.ctx.cpu() - cpu0) / n
}

/** (4) Idle memory: RSS after a full GC, per subscribed connection, over the servers' RSS at start. */
async function memory (run: Run): Promise<void> {
  const [small, large] = run.ctx.sizes.memoryConnections
  const base = await run.ctx.memory()
  await run.open(users(0, small))
  run.result.metrics.rssPerConnSmallBytes = (await run.ctx.memory() - base) / small
  await run.open(users(small, large))
  run.result.metrics.rssPerConnLargeBytes = (await run.ctx.memory() - base) / large
}

/**
 * (5) Scale: the same user-addressed events and the same fan-out with few connections, then with
 * many more connected and subscribed to something else; the cost per event should not follow them.
 */
async function scale (run: Run): Promise<void> {
  const { sizes } = run.ctx
  const [small, large] = sizes.scaleConnections
  const subscribers = { from: 0, count: small }
  const none = { from: 0, count: 0 }
  // What the servers spend with no event at all (timers, heartbeats over every connection) is
  // measured first and taken out, so the figures are the cost of events alone.
  const idle = async (): Promise<number> => {
    const cpu0 = await run.ctx.cpu()
    const t0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
    return (await run.ctx.cpu() - cpu0) / (performance.now() - t0)
  }
  const measure = async (label: 'Small' | 'Large'): Promise<void> => {
    await run.warm(none, small)
    const idlePerMs = await idle()
    const direct = await run.phase(`user events, ${label}`, { rate: sizes.scaleUserRate, durationMs: sizes.scaleMs, users: small, everyEvent: none, latency: false })
    run.result.metrics[`userCpuPerEvent${label}Us`] = (direct.cpuMicros - idlePerMs * direct.windowMs) / direct.tally.delivered
    const fan = await run.phase(`fan-out, ${label}`, { rate: sizes.scaleFanoutRate, durationMs: sizes.scaleMs, everyEvent: subscribers, latency: false })
    run.result.metrics[`fanoutCpuPerDelivery${label}Us`] = (fan.cpuMicros - idlePerMs * fan.windowMs) / fan.tally.delivered
  }
  await run.open(users(0, small))
  await measure('Small')
  await run.open(users(small, large, 'idle'))
  await measure('Large')
  const { metrics } = run.result
  metrics.userCpuGrowth = (metrics.userCpuPerEventLargeUs ?? Number.NaN) / (metrics.userCpuPerEventSmallUs ?? Number.NaN)
  metrics.fanoutCpuGrowth = (metrics.fanoutCpuPerDeliveryLargeUs ?? Number.NaN) / (metrics.fanoutCpuPerDeliverySmallUs ?? Number.NaN)
}

const RUNNERS: Record<ScenarioName, (run: Run) => Promise<void>> = { fanout, workload, storm, memory, scale }

export async function runScenario (name: ScenarioName, ctx: ScenarioContext): Promise<ScenarioResult> {
  const fleet = new Fleet(ctx.contender, ctx.wsBases)
  const run = new Run(ctx, fleet)
  try {
    await RUNNERS[name](run)
  } catch (err) {
    run.result.failures.push(`${name}: ${(err as Error).message}`)
  } finally {
    fleet.close()
  }
  return run.result
}
