import type { Lab, Phase, PhaseOptions, ScenarioResult } from './lab.js'
import { quantile } from './stats.js'

/** A rate is sustainable while p99 publish→receive stays within this. */
export const P99_BOUND_MS = 100
/** The search stops once the first failing rate is within this factor of the last good one. */
const RESOLUTION = 1.12
const STEPS = 7

/** The highest rate sustained (0 if even the lowest tried was too fast), and its step. */
export interface Capacity {
  rate: number
  phase: Phase | undefined
}

/**
 * The highest rate of `options`' events the servers sustain: the rate doubles from `start`
 * until p99 passes P99_BOUND_MS (or the publisher falls behind, or a delivery is lost), then the
 * last good and the first bad rate are bisected: a few steps measure the limit to about a tenth.
 */
export async function capacity (lab: Lab, result: ScenarioResult, options: Omit<PhaseOptions, 'rate' | 'durationMs' | 'latency'>, start: number): Promise<Capacity> {
  const { stepMs } = lab.ctx.sizes
  let good = 0
  let best: Phase | undefined
  let bad = Number.POSITIVE_INFINITY
  let rate = start
  for (let step = 0; step < STEPS; step++) {
    const phase = await lab.phase(result, `${rate}/s`, { ...options, rate, durationMs: stepMs, latency: true })
    const p99 = quantile(phase.tally.sortedLatencies(), 0.99)
    const onTime = !phase.published.saturated && phase.published.elapsedMs < stepMs + P99_BOUND_MS
    const ok = p99 <= P99_BOUND_MS && onTime && phase.tally.lost === 0
    lab.ctx.log(`    ${rate} events/s: p99 ${p99.toFixed(1)} ms${onTime ? '' : ', publisher fell behind'}: ${ok ? 'sustained' : 'too fast'}`)
    if (ok && rate > good) {
      good = rate
      best = phase
    }
    if (!ok) bad = Math.min(bad, rate)
    if (phase.tally.lost > 0) break
    if (bad <= good * RESOLUTION) break
    const next = bad === Number.POSITIVE_INFINITY ? rate * 2 : good === 0 ? rate / 2 : Math.sqrt(good * bad)
    rate = Math.round(next)
    await lab.settle()
  }
  return { rate: good, phase: best }
}
