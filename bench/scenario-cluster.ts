import { setTimeout as delay } from 'node:timers/promises'
import { capacity } from './capacity.js'
import type { ClientSpec } from './clients.js'
import type { Lab, PhaseOptions, ScenarioResult } from './lab.js'
import { delta, type ShardSample, totalCalls } from './shards.js'
import { quantile } from './stats.js'

/** At the fixed rate, so that its first measured second does not pay for compiling the path. */
const WARM_MS = 1000
const NONE = { from: 0, count: 0 }

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0)
const descending = (values: readonly number[]): number[] => [...values].sort((a, b) => b - a)

/** What each master did between two samples. */
function deltas (before: readonly ShardSample[], after: readonly ShardSample[]): ShardSample[] {
  return after.map((a, i) => delta(before[i] as ShardSample, a))
}

type Options = Omit<PhaseOptions, 'rate' | 'durationMs' | 'latency'>

/**
 * (6) Cluster: one connection per user, each event to one user in turn and one in
 * `clusterBroadcastEvery` a broadcast to a small audience, no admin (an admin stream reads
 * everything, so it would hide how events split over masters and instances). In order: what
 * connecting costs Redis, the instances' background commands, the fixed rate, the capacity.
 */
export async function cluster (lab: Lab, result: ScenarioResult): Promise<void> {
  const { sizes } = lab.ctx
  if (lab.fleet.length > 0) throw new Error('cluster must run on instances without connections')
  const audience = { from: 0, count: sizes.clusterAudience }
  const users = { base: sizes.clusterAudience, count: sizes.clusterUsers }
  const options: Options = { topic: 'idle', users, everyEvent: NONE, broadcasts: { every: sizes.clusterBroadcastEvery, topic: 'bench', audience } }
  await connect(lab, result, audience.count + users.count)
  await lab.phase(result, 'warm-up', { ...options, rate: sizes.clusterRate, durationMs: WARM_MS, latency: false })
  await lab.settle()
  await idle(lab, result)
  await steady(lab, result, options)
  await lab.settle()
  await capacityAndSplit(lab, result, options)
}

/** Commands and Redis memory per connection: the first `count` clients, the audience subscribed to `bench`. */
async function connect (lab: Lab, { metrics }: ScenarioResult, count: number): Promise<void> {
  const { ctx } = lab
  const specs = Array.from({ length: count }, (_, i): ClientSpec => ({ user: `u${i}`, admin: false, topic: i < ctx.sizes.clusterAudience ? 'bench' : 'idle' }))
  const before = await ctx.shards()
  await lab.open(specs)
  const connecting = deltas(before, await ctx.shards())
  metrics.commandsPerConnect = sum(connecting.map(totalCalls)) / count
  metrics.redisBytesPerConnection = sum(connecting.map((d) => d.memoryBytes)) / count
}

/** The commands each instance sends with nothing published: registry, canary, slot map. */
async function idle (lab: Lab, { metrics }: ScenarioResult): Promise<void> {
  const { ctx } = lab
  const before = await ctx.shards()
  const t0 = performance.now()
  await delay(ctx.sizes.clusterIdleMs)
  const idling = deltas(before, await ctx.shards())
  metrics.idleCommandsPerSecPerInstance = sum(idling.map(totalCalls)) / (performance.now() - t0) * 1000 / ctx.wsBases.length
}

/**
 * At the fixed rate: delivery latency, commands per event (by command) and each master's share
 * of them, and what each instance receives from Redis. Background commands over the phase are
 * left in: a few per second against thousands.
 */
async function steady (lab: Lab, result: ScenarioResult, options: Options): Promise<void> {
  const { ctx } = lab
  const { metrics } = result
  const [shards0, bytes0, received0] = await Promise.all([ctx.shards(), ctx.ingress(), ctx.received()])
  const t0 = performance.now()
  const phase = await lab.phase(result, `${ctx.sizes.clusterRate}/s`, { ...options, rate: ctx.sizes.clusterRate, durationMs: ctx.sizes.clusterMs, latency: true })
  const [shards1, bytes1, received1] = await Promise.all([ctx.shards(), ctx.ingress(), ctx.received()])
  const seconds = (performance.now() - t0) / 1000
  const events = phase.published.accepted
  const latencies = phase.tally.sortedLatencies()
  metrics.p50Ms = quantile(latencies, 0.5)
  metrics.p99Ms = quantile(latencies, 0.99)

  const byMaster = deltas(shards0, shards1)
  const calls = byMaster.map(totalCalls)
  const total = sum(calls)
  metrics.commandsPerEvent = total / events
  descending(calls).forEach((n, i) => { metrics[`masterShare${i + 1}`] = n / total })
  metrics.masterMaxOverMean = Math.max(...calls) / (total / calls.length)
  for (const d of byMaster) {
    for (const [name, n] of Object.entries(d.calls)) metrics[`calls.${name}`] = (metrics[`calls.${name}`] ?? 0) + n / events
  }

  const bytes = bytes1.map((b, i) => b - (bytes0[i] as number))
  metrics.ingressBytesPerSecMax = Math.max(...bytes) / seconds
  metrics.ingressBytesPerSecMin = Math.min(...bytes) / seconds
  metrics.ingressBytesPerEvent = sum(bytes) / bytes.length / events
  // Only eventgate counts the events it receives; NaN would not survive the trip to the runner.
  const shares = received1.map((r, i) => (r - (received0[i] as number)) / events)
  if (shares.every(Number.isFinite)) {
    metrics.receivedShareMax = Math.max(...shares)
    metrics.receivedShareMin = Math.min(...shares)
  }
}

/**
 * The highest rate sustained and the servers' CPU per event there (it falls as the rate rises,
 * more events per wake-up, so it is taken where it counts). Then half that rate published
 * through one instance only: each instance holds half the users and half the audience, so each
 * delivers alike, and the difference between them is what the requests cost the one taking
 * them. Redis's CPU is read there too: at the fixed rate each command is a wake-up of its own.
 */
async function capacityAndSplit (lab: Lab, result: ScenarioResult, options: Options): Promise<void> {
  const { ctx } = lab
  const { metrics } = result
  const most = await capacity(lab, result, options, ctx.sizes.clusterStartRate)
  metrics.sustainedRate = most.rate
  if (most.phase !== undefined) metrics.cpuPerEventAtCapacityUs = most.phase.cpuMicros / most.phase.published.accepted
  await lab.settle()
  const rate = Math.max(ctx.sizes.clusterRate, Math.round(most.rate / 2))
  const before = await ctx.shards()
  const split = await lab.phase(result, `${rate}/s through one instance`, { ...options, rate, durationMs: ctx.sizes.clusterMs, via: 0, latency: false })
  const busy = deltas(before, await ctx.shards())
  const accepted = split.published.accepted
  const [publishing, receiving] = split.cpuEachMicros.map((micros) => micros / accepted) as [number, number]
  metrics.publishCpuPerEventUs = publishing - receiving
  metrics.receiveCpuPerEventUs = receiving
  const redisMicros = sum(busy.map((d) => d.cpuMicros))
  metrics.redisCpuPerEventUs = redisMicros / accepted
  metrics.redisCpuPerCommandUs = redisMicros / sum(busy.map(totalCalls))
}
