import { setTimeout as delay } from 'node:timers/promises'
import { sustainedRate } from './capacity.js'
import type { ClientSpec } from './clients.js'
import type { Lab, ScenarioResult } from './lab.js'
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

/**
 * (6) Cluster: one connection per user, each event to one user in turn and one in
 * `clusterBroadcastEvery` a broadcast to a small audience, no admin (an admin stream reads
 * everything, so it would hide how events split over masters and instances). Measured: the
 * commands each connection costs; the instances' background commands with nothing published;
 * at a fixed rate, delivery latency, server CPU, commands per event (by command), each master's
 * share of them and its CPU, and what each instance receives from Redis; then the highest rate
 * sustained within the workload's bar.
 */
export async function cluster (lab: Lab, result: ScenarioResult): Promise<void> {
  const { ctx } = lab
  const { sizes } = ctx
  const { metrics } = result
  if (lab.fleet.length > 0) throw new Error('cluster must run on instances without connections')
  const audience = { from: 0, count: sizes.clusterAudience }
  const users = { base: sizes.clusterAudience, count: sizes.clusterUsers }
  const specs = Array.from({ length: audience.count + users.count }, (_, i): ClientSpec => ({ user: `u${i}`, admin: false, topic: i < audience.count ? 'bench' : 'idle' }))

  const unconnected = await ctx.shards()
  await lab.open(specs)
  metrics.commandsPerConnect = sum(deltas(unconnected, await ctx.shards()).map(totalCalls)) / specs.length

  const options = { topic: 'idle', users, everyEvent: NONE, broadcasts: { every: sizes.clusterBroadcastEvery, topic: 'bench', audience } }
  await lab.phase(result, 'warm-up', { ...options, rate: sizes.clusterRate, durationMs: WARM_MS, latency: false })
  await lab.settle()

  const idleFrom = await ctx.shards()
  const idleT0 = performance.now()
  await delay(sizes.clusterIdleMs)
  const idle = deltas(idleFrom, await ctx.shards())
  metrics.idleCommandsPerSecPerInstance = sum(idle.map(totalCalls)) / (performance.now() - idleT0) * 1000 / ctx.wsBases.length

  const [shards0, bytes0, received0] = await Promise.all([ctx.shards(), ctx.ingress(), ctx.received()])
  const t0 = performance.now()
  const steady = await lab.phase(result, `${sizes.clusterRate}/s`, { ...options, rate: sizes.clusterRate, durationMs: sizes.clusterMs, latency: true })
  const [shards1, bytes1, received1] = await Promise.all([ctx.shards(), ctx.ingress(), ctx.received()])
  const seconds = (performance.now() - t0) / 1000
  const events = steady.published.accepted
  const latencies = steady.tally.sortedLatencies()
  metrics.p50Ms = quantile(latencies, 0.5)
  metrics.p99Ms = quantile(latencies, 0.99)
  metrics.serverCpuPerEventUs = steady.cpuMicros / events

  // Background commands over the phase are left in: a few per second against thousands.
  const byMaster = deltas(shards0, shards1)
  const calls = byMaster.map(totalCalls)
  const total = sum(calls)
  metrics.commandsPerEvent = total / events
  metrics.redisCpuPerEventUs = sum(byMaster.map((d) => d.cpuMicros)) / events
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

  await lab.settle()
  metrics.sustainedRate = await sustainedRate(lab, result, options, sizes.clusterStartRate)
}
