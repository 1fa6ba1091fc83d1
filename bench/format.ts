import type { ScenarioResult } from './lab.js'
import { type Summary, summarize } from './stats.js'

/** One metric over the repeats of one contender or setup. */
export const summaryOf = (runs: readonly ScenarioResult[] | undefined, metric: string): Summary =>
  summarize((runs ?? []).map((r) => r.metrics[metric] ?? Number.NaN))

export const format = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–'

/** The median, with min–max when there were repeats. */
export function cell (s: Summary, digits: number): string {
  if (s.n === 0) return '–'
  return s.n === 1 ? format(s.median, digits) : `${format(s.median, digits)} (${format(s.min, digits)}–${format(s.max, digits)})`
}
