import { cell, format, summaryOf } from './format.js'
import type { ScenarioResult } from './lab.js'
import { SETUPS } from './setups.js'

type Runs = Partial<Record<string, ScenarioResult[]>>

interface Row {
  label: string
  /** One metric, or several shown as `a / b / …` (medians each). */
  metrics: string[]
  digits: number
  percent?: boolean
}

const ROWS: Row[] = [
  { label: 'event log partitions (REDIS_PARTITIONS as resolved)', metrics: ['partitions'], digits: 0 },
  { label: 'publish capacity, events/s (delivery p99 ≤ 100 ms)', metrics: ['sustainedRate'], digits: 0 },
  { label: 'delivery p50 ms, fixed rate', metrics: ['p50Ms'], digits: 1 },
  { label: 'delivery p99 ms, fixed rate', metrics: ['p99Ms'], digits: 1 },
  { label: 'server CPU µs per event at capacity, both instances', metrics: ['cpuPerEventAtCapacityUs'], digits: 0 },
  { label: 'CPU µs per event at half capacity, taking the publish request (over the other instance)', metrics: ['publishCpuPerEventUs'], digits: 0 },
  { label: 'CPU µs per event at half capacity, receiving it (its deliveries included)', metrics: ['receiveCpuPerEventUs'], digits: 0 },
  { label: 'Redis commands per event, all masters', metrics: ['commandsPerEvent'], digits: 2 },
  { label: 'Redis CPU µs per event, all masters, at half capacity', metrics: ['redisCpuPerEventUs'], digits: 1 },
  { label: 'Redis CPU µs per command, at half capacity', metrics: ['redisCpuPerCommandUs'], digits: 2 },
  { label: "each master's share of commands, busiest first", metrics: ['masterShare1', 'masterShare2', 'masterShare3'], digits: 0, percent: true },
  { label: 'busiest master, × the mean', metrics: ['masterMaxOverMean'], digits: 2 },
  { label: 'bytes/s from Redis into an instance, most / least', metrics: ['ingressBytesPerSecMax', 'ingressBytesPerSecMin'], digits: 0 },
  { label: 'bytes from Redis per event published, per instance', metrics: ['ingressBytesPerEvent'], digits: 0 },
  { label: 'events received per event published, per instance, most / least', metrics: ['receivedShareMax', 'receivedShareMin'], digits: 2 },
  { label: 'Redis commands per connection (connect, authenticate, subscribe)', metrics: ['commandsPerConnect'], digits: 2 },
  { label: 'Redis memory per connection, bytes, all masters', metrics: ['redisBytesPerConnection'], digits: 0 },
  { label: 'background Redis commands/s per instance, nothing published', metrics: ['idleCommandsPerSecPerInstance'], digits: 1 }
]

const CALLS = 'calls.'

function value (runs: ScenarioResult[] | undefined, row: Row): string {
  const summaries = row.metrics.map((m) => summaryOf(runs, m)).filter((s) => s.n > 0)
  if (summaries.length === 0) return '–'
  if (summaries.length === 1) return row.percent === true ? `${format((summaries[0]?.median ?? Number.NaN) * 100, 0)}%` : cell(summaries[0] as typeof summaries[0], row.digits)
  return summaries.map((s) => row.percent === true ? `${format(s.median * 100, 0)}%` : format(s.median, row.digits)).join(' / ')
}

const partitionsNote = (partitions: string | undefined): string => partitions === undefined
  ? 'REDIS_PARTITIONS unset: each eventgate instance takes its default.'
  : `REDIS_PARTITIONS=${partitions} for every eventgate instance.`

/** The cluster scenario's section of the report: a column per setup, then commands per event by name. */
export function clusterMarkdown (runs: Runs, workload: string, partitions: string | undefined): string[] {
  const setups = SETUPS.filter((s) => runs[s.name] !== undefined)
  const lines = [
    '## Cluster',
    '',
    `${workload} Cluster: 3 masters + 3 replicas started by the benchmark. ${partitionsNote(partitions)} Medians (min–max) over the repeats; a row of several figures gives the median of each.`,
    '',
    `| measure | ${setups.map((s) => s.label).join(' | ')} |`,
    `| --- | ${setups.map(() => '---:').join(' | ')} |`
  ]
  for (const row of ROWS) lines.push(`| ${row.label} | ${setups.map((s) => value(runs[s.name], row)).join(' | ')} |`)
  const names = [...new Set(setups.flatMap((s) => (runs[s.name] ?? []).flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith(CALLS)))))].sort()
  lines.push(
    '',
    'Redis commands per event published at the fixed rate, by command (a script\'s own commands counted apart, as INFO commandstats counts them):',
    '',
    `| command | ${setups.map((s) => s.label).join(' | ')} |`,
    `| --- | ${setups.map(() => '---:').join(' | ')} |`
  )
  for (const name of names) {
    lines.push(`| ${name.slice(CALLS.length)} | ${setups.map((s) => cell(summaryOf(runs[s.name], name), 3)).join(' | ')} |`)
  }
  lines.push(
    '',
    'Bytes from Redis are what the kernel counted on each instance\'s connections to the nodes: the events pushed to it and the replies to its own commands (a publishing instance reads its publish replies). Events received are eventgate\'s `eventgate_events_received_total`; Socket.IO does not count them.'
  )
  return lines
}

/** Medians per measure and setup, for the JSON summary. */
export function clusterMedians (runs: Runs): Record<string, Record<string, number>> {
  const medians: Record<string, Record<string, number>> = {}
  for (const setup of SETUPS) {
    const metrics = new Set((runs[setup.name] ?? []).flatMap((r) => Object.keys(r.metrics)))
    for (const metric of metrics) (medians[metric] ??= {})[setup.name] = summaryOf(runs[setup.name], metric).median
  }
  return medians
}
