import { capacity } from './capacity.js'
import { type ClientSpec, Fleet } from './clients.js'
import { emptyResult, Lab, type ScenarioContext, type ScenarioResult } from './lab.js'
import { cluster } from './scenario-cluster.js'
import { quantile } from './stats.js'

export const SCENARIOS = ['fanout', 'workload', 'storm', 'memory', 'scale', 'cluster'] as const
export type ScenarioName = typeof SCENARIOS[number]

/**
 * The scenarios one contender turn runs, on the same two instances and, where they can, the
 * same connections, in this order. `storm` comes first, on instances that served nothing yet,
 * and leaves its first clients to `fanout`. `memory` comes first on instances of its own, as
 * RSS per connection is measured over the RSS at start; its 20,000 connections then serve
 * `scale` (many), `workload` (10,000 of them) and `scale` again (few). `cluster` runs alone, once
 * per setup rather than per contender (setups.ts).
 */
export const GROUPS: ReadonlyArray<readonly ScenarioName[]> = [['storm', 'fanout'], ['memory', 'scale', 'workload'], ['cluster']]

/** The scenarios that connect 10,000 clients or more: they are repeated fewer times. */
export const SLOW: ReadonlySet<ScenarioName> = new Set(['workload', 'memory', 'scale', 'cluster'])

const WARM_RATE = 50
const WARM_MS = 500
const IDLE_MS = 1000

const NONE = { from: 0, count: 0 }
/** Events per request of the batch measure: the most POST /events takes in one. */
const BATCH_SIZE = 100

/** (1) Fan-out: N subscribers of one pattern; an overload's throughput and CPU, then latency at a sane rate. */
async function fanout (lab: Lab, result: ScenarioResult): Promise<void> {
  const { sizes } = lab.ctx
  const subscribers = { from: 0, count: sizes.subscribers }
  await lab.ensure(sizes.subscribers)
  const options = { topic: 'bench', everyEvent: subscribers }
  await lab.phase(result, 'warm-up', { ...options, rate: WARM_RATE, durationMs: WARM_MS, latency: false })
  const overload = await lab.phase(result, 'overload', { ...options, rate: sizes.overloadRate, durationMs: sizes.overloadMs, latency: false })
  result.metrics.deliveriesPerSec = overload.tally.delivered / overload.wallMs * 1000
  result.metrics.cpuPerDeliveryUs = overload.cpuMicros / overload.tally.delivered
  // The overload leaves the servers' buffers full and its garbage uncollected; latency is for a calm server.
  await lab.settle()
  const steady = await lab.phase(result, 'latency', { ...options, rate: sizes.latencyRate, durationMs: sizes.latencyMs, latency: true })
  const latencies = steady.tally.sortedLatencies()
  result.metrics.p50Ms = quantile(latencies, 0.5)
  result.metrics.p99Ms = quantile(latencies, 0.99)
}

/**
 * (2) One user per connection, each event to one user and every admin: the highest rate sustained;
 * then the events accepted per second in batches of 100, and the batch requests' p99.
 */
async function workload (lab: Lab, result: ScenarioResult): Promise<void> {
  const { sizes } = lab.ctx
  const base = sizes.subscribers
  const end = base + sizes.workloadUsers
  // Clients past the workload's users (left by `scale`) would be connections it does not have.
  await lab.closeRange(end, lab.fleet.length)
  await lab.ensure(end)
  const from = lab.fleet.length
  await lab.open(Array.from({ length: sizes.admins }, (_, i): ClientSpec => ({ user: `admin-${i}`, admin: true, topic: 'idle' })))
  const options = { topic: 'idle', users: { base, count: sizes.workloadUsers }, everyEvent: { from, count: sizes.admins } }
  await lab.phase(result, 'warm-up', { ...options, rate: WARM_RATE, durationMs: WARM_MS, latency: false })
  result.metrics.sustainedRate = (await capacity(lab, result, options, sizes.workloadStartRate)).rate
  // The same events in batches of 100, offered faster than any contender takes them.
  await lab.settle()
  const batches = await lab.phase(result, `batches of ${BATCH_SIZE}`, { ...options, rate: sizes.batchRate, durationMs: sizes.stepMs, batch: BATCH_SIZE, latency: false })
  result.metrics.batchEventsPerSec = batches.published.accepted / batches.published.elapsedMs * 1000
  result.metrics.batchP99Ms = quantile([...batches.published.requestMs].sort((a, b) => a - b), 0.99)
  await lab.closeRange(from, lab.fleet.length)
}

/** (3) Connection storm: connect, authenticate and subscribe as fast as the servers take it. */
async function storm (lab: Lab, result: ScenarioResult): Promise<void> {
  const n = lab.ctx.sizes.stormConnections
  const cpu0 = await lab.ctx.cpu()
  const opened = lab.fleet.length
  result.metrics.connectsPerSec = await lab.ensure(opened + n)
  result.metrics.cpuPerConnectUs = (await lab.ctx.cpu() - cpu0) / n
  // What the fan-out after it needs stays connected; the rest is closed so it does not weigh on it.
  await lab.closeRange(lab.ctx.sizes.subscribers, lab.fleet.length)
}

/** (4) Idle memory: RSS after a full GC, per subscribed connection, over the servers' RSS at start. */
async function memory (lab: Lab, result: ScenarioResult): Promise<void> {
  const [small, large] = lab.ctx.sizes.memoryConnections
  if (lab.fleet.length > 0) throw new Error('memory must run on instances without connections')
  const base = await lab.ctx.memory()
  await lab.ensure(small)
  result.metrics.rssPerConnSmallBytes = (await lab.ctx.memory() - base) / small
  await lab.ensure(large)
  result.metrics.rssPerConnLargeBytes = (await lab.ctx.memory() - base) / large
}

/**
 * (5) Scale: the same user-addressed events and the same fan-out with many connections (the
 * rest subscribed to something else), then with few; the cost per event should not follow them.
 */
async function scaleMany (lab: Lab, result: ScenarioResult): Promise<void> {
  await lab.ensure(lab.ctx.sizes.scaleConnections)
  await scaleMeasure(lab, result, 'Large')
}

async function scaleFew (lab: Lab, result: ScenarioResult): Promise<void> {
  await lab.closeRange(lab.ctx.sizes.subscribers, lab.fleet.length)
  await scaleMeasure(lab, result, 'Small')
  const { metrics } = result
  metrics.userCpuGrowth = (metrics.userCpuPerEventLargeUs ?? Number.NaN) / (metrics.userCpuPerEventSmallUs ?? Number.NaN)
  metrics.fanoutCpuGrowth = (metrics.fanoutCpuPerDeliveryLargeUs ?? Number.NaN) / (metrics.fanoutCpuPerDeliverySmallUs ?? Number.NaN)
}

async function scaleMeasure (lab: Lab, result: ScenarioResult, label: 'Small' | 'Large'): Promise<void> {
  const { sizes } = lab.ctx
  const subscribers = { from: 0, count: sizes.subscribers }
  const direct = { rate: sizes.scaleUserRate, topic: 'bench', users: { base: 0, count: sizes.subscribers }, everyEvent: NONE, latency: false }
  const fan = { rate: sizes.scaleFanoutRate, topic: 'bench', everyEvent: subscribers, latency: false }
  // Warmed at the measured rates, so neither measure pays for code the other one compiled.
  await lab.phase(result, `warm-up, ${label}`, { ...direct, durationMs: WARM_MS })
  await lab.phase(result, `warm-up, ${label}`, { ...fan, durationMs: WARM_MS })
  // What the servers spend with no event at all (timers, heartbeats over every connection) is
  // measured first and taken out, so the figures are the cost of events alone.
  await lab.settle()
  const cpu0 = await lab.ctx.cpu()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const idlePerMs = (await lab.ctx.cpu() - cpu0) / (performance.now() - t0)
  const users = await lab.phase(result, `user events, ${label}`, { ...direct, durationMs: sizes.scaleMs })
  result.metrics[`userCpuPerEvent${label}Us`] = (users.cpuMicros - idlePerMs * users.windowMs) / users.tally.delivered
  const fanned = await lab.phase(result, `fan-out, ${label}`, { ...fan, durationMs: sizes.scaleMs })
  result.metrics[`fanoutCpuPerDelivery${label}Us`] = (fanned.cpuMicros - idlePerMs * fanned.windowMs) / fanned.tally.delivered
}

/** A scenario as steps: `scale` measures before and after `workload`, on the same connections. */
const STEPS: Record<ScenarioName, Array<(lab: Lab, result: ScenarioResult) => Promise<void>>> = {
  storm: [storm],
  fanout: [fanout],
  memory: [memory],
  scale: [scaleMany, scaleFew],
  workload: [workload],
  cluster: [cluster]
}

/**
 * Runs `names` (one group, in its order) on one fleet; reports each scenario's result once its
 * last step is done. A scenario whose step threw is failed; the others go on.
 */
export async function runGroup (names: readonly ScenarioName[], ctx: ScenarioContext, report: (name: ScenarioName, result: ScenarioResult) => void): Promise<void> {
  const lab = new Lab(ctx, new Fleet(ctx.contender, ctx.wsBases))
  const results = new Map(names.map((name) => [name, emptyResult()]))
  const broken = new Set<ScenarioName>()
  // A stable sort by step: second steps (scale's few connections) run after every first step.
  const queue = names.flatMap((name) => STEPS[name].map((step, order) => ({ name, step, order, last: order === STEPS[name].length - 1 })))
    .sort((a, b) => a.order - b.order)
  try {
    for (const { name, step, order, last } of queue) {
      const result = results.get(name) as ScenarioResult
      if (!broken.has(name)) {
        ctx.log(`  ${name}${STEPS[name].length > 1 ? `, step ${order + 1} of ${STEPS[name].length}` : ''}`)
        try {
          await step(lab, result)
        } catch (err) {
          broken.add(name)
          result.failures.push(`${name}: ${(err as Error).message}`)
        }
      }
      if (last) report(name, result)
    }
  } finally {
    lab.fleet.close()
  }
}
