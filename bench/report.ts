import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ContenderName } from './clients.js'
import { clusterMarkdown, clusterMedians } from './cluster-report.js'
import { cell, format, summaryOf as summaryOfRuns } from './format.js'
import type { ScenarioResult } from './lab.js'
import { type ScenarioName, SCENARIOS, SLOW } from './scenarios.js'
import type { Summary } from './stats.js'

export const CONTENDERS: readonly ContenderName[] = ['eventgate', 'socketio', 'bare']
const LABEL: Record<ContenderName, string> = { eventgate: 'eventgate', socketio: 'Socket.IO', bare: 'bare ws' }

interface Row {
  scenario: ScenarioName
  metric: string
  label: string
  digits: number
}

interface Target {
  scenario: ScenarioName
  metric: string
  /** eventgate's median over the other's (`versus`), or eventgate's own value. */
  versus?: ContenderName
  op: '>=' | '<='
  bound: number
}

const ROWS: Row[] = [
  { scenario: 'fanout', metric: 'deliveriesPerSec', label: 'fan-out deliveries/s (overload)', digits: 0 },
  { scenario: 'fanout', metric: 'cpuPerDeliveryUs', label: 'fan-out server CPU µs/delivery', digits: 2 },
  { scenario: 'fanout', metric: 'p50Ms', label: 'fan-out p50 ms (steady rate)', digits: 1 },
  { scenario: 'fanout', metric: 'p99Ms', label: 'fan-out p99 ms (steady rate)', digits: 1 },
  { scenario: 'workload', metric: 'sustainedRate', label: 'user events/s sustained (p99 ≤ 100 ms)', digits: 0 },
  { scenario: 'workload', metric: 'batchEventsPerSec', label: 'user events/s accepted in batches of 100', digits: 0 },
  { scenario: 'workload', metric: 'batchP99Ms', label: 'batch request p99 ms', digits: 1 },
  { scenario: 'storm', metric: 'connectsPerSec', label: 'connect+auth+subscribe/s', digits: 0 },
  { scenario: 'storm', metric: 'cpuPerConnectUs', label: 'server CPU µs/connect', digits: 0 },
  { scenario: 'memory', metric: 'rssPerConnSmallBytes', label: 'RSS bytes/idle connection (small)', digits: 0 },
  { scenario: 'memory', metric: 'rssPerConnLargeBytes', label: 'RSS bytes/idle connection (large)', digits: 0 },
  { scenario: 'scale', metric: 'userCpuPerEventSmallUs', label: 'user event server CPU µs (few conns)', digits: 1 },
  { scenario: 'scale', metric: 'userCpuPerEventLargeUs', label: 'user event server CPU µs (many conns)', digits: 1 },
  { scenario: 'scale', metric: 'userCpuGrowth', label: 'user event CPU, many/few', digits: 2 },
  { scenario: 'scale', metric: 'fanoutCpuPerDeliverySmallUs', label: 'fan-out CPU µs/delivery (few conns)', digits: 2 },
  { scenario: 'scale', metric: 'fanoutCpuPerDeliveryLargeUs', label: 'fan-out CPU µs/delivery (many conns)', digits: 2 },
  { scenario: 'scale', metric: 'fanoutCpuGrowth', label: 'fan-out CPU, many/few', digits: 2 }
]

const TARGETS: Target[] = [
  { scenario: 'fanout', metric: 'deliveriesPerSec', versus: 'bare', op: '>=', bound: 1.0 },
  { scenario: 'fanout', metric: 'deliveriesPerSec', versus: 'socketio', op: '>=', bound: 1.5 },
  { scenario: 'fanout', metric: 'cpuPerDeliveryUs', versus: 'bare', op: '<=', bound: 1.0 },
  { scenario: 'fanout', metric: 'p99Ms', versus: 'bare', op: '<=', bound: 1.0 },
  { scenario: 'workload', metric: 'batchEventsPerSec', versus: 'bare', op: '>=', bound: 0.8 },
  { scenario: 'storm', metric: 'connectsPerSec', versus: 'bare', op: '>=', bound: 1.0 },
  { scenario: 'memory', metric: 'rssPerConnLargeBytes', versus: 'bare', op: '<=', bound: 1.3 },
  { scenario: 'memory', metric: 'rssPerConnLargeBytes', versus: 'socketio', op: '<=', bound: 0.7 },
  { scenario: 'scale', metric: 'userCpuGrowth', op: '<=', bound: 1.2 }
]

/** By scenario, then by contender (or, for the cluster scenario, by setup). */
export type Results = Partial<Record<ScenarioName, Partial<Record<string, ScenarioResult[]>>>>

export interface RunInfo {
  command: string
  started: Date
  conditions: string
  repeats: number
  /** Of workload, memory and scale. */
  slowRepeats: number
  quick: boolean
  durationS: number
  /** REDIS_PARTITIONS as eventgate's instances were given it. */
  partitions: string | undefined
  /** What the cluster scenario ran, in a sentence. */
  clusterWorkload: string
}

function summaryOf (results: Results, scenario: ScenarioName, contender: ContenderName, metric: string): Summary {
  return summaryOfRuns(results[scenario]?.[contender], metric)
}

function targetValue (results: Results, t: Target): number {
  const own = summaryOf(results, t.scenario, 'eventgate', t.metric).median
  return t.versus === undefined ? own : own / summaryOf(results, t.scenario, t.versus, t.metric).median
}

const describe = (t: Target): string =>
  `${t.scenario}.${t.metric} ${t.versus === undefined ? '' : `eventgate/${LABEL[t.versus]} `}${t.op} ${t.bound}`

export function targetVerdicts (results: Results): Array<{ target: string, value: number, met: boolean | null }> {
  return TARGETS.filter((t) => results[t.scenario] !== undefined).map((t) => {
    const value = targetValue(results, t)
    return { target: describe(t), value, met: Number.isFinite(value) ? (t.op === '>=' ? value >= t.bound : value <= t.bound) : null }
  })
}

/** How many times the scenarios that ran were repeated: `5 repeat(s) of storm, fanout; 3 repeat(s) of cluster`. */
function repeatsOf (results: Results, info: RunInfo): string {
  const ran = SCENARIOS.filter((s) => results[s] !== undefined)
  const fast = ran.filter((s) => !SLOW.has(s))
  const slow = ran.filter((s) => SLOW.has(s))
  return [
    ...fast.length > 0 ? [`${info.repeats} repeat(s) of ${fast.join(', ')}`] : [],
    ...slow.length > 0 ? [`${info.slowRepeats} repeat(s) of ${slow.join(', ')}`] : []
  ].join('; ')
}

/** The Markdown report: medians with min–max over the repeats, ratios, targets, failures. */
export function markdown (results: Results, info: RunInfo): string {
  const lines = [
    `# eventgate benchmark, ${info.started.toISOString()}`,
    '',
    `\`${info.command}\` — ${repeatsOf(results, info)}${info.quick ? ', quick sizes' : ''}; ${info.conditions}; ${(info.durationS / 60).toFixed(1)} minutes.`
  ]
  const rows = ROWS.filter((row) => results[row.scenario] !== undefined)
  if (rows.length > 0) {
    lines.push(
      'Two instances of each contender on one Redis; medians (min–max) over the repeats.',
      '',
      `| measure | ${CONTENDERS.map((c) => LABEL[c]).join(' | ')} | eventgate/bare | eventgate/Socket.IO |`,
      `| --- | ${CONTENDERS.map(() => '---:').join(' | ')} | ---: | ---: |`
    )
  }
  for (const row of rows) {
    const s = CONTENDERS.map((c) => summaryOf(results, row.scenario, c, row.metric))
    const ratio = (i: number): string => format((s[0] as Summary).median / (s[i] as Summary).median, 2)
    lines.push(`| ${row.label} | ${s.map((x) => cell(x, row.digits)).join(' | ')} | ${ratio(2)} | ${ratio(1)} |`)
  }
  if (results.cluster !== undefined) lines.push('', ...clusterMarkdown(results.cluster, info.clusterWorkload, info.partitions))
  const verdicts = targetVerdicts(results)
  if (verdicts.length > 0) {
    lines.push('', '| target | value | met |', '| --- | ---: | :---: |')
    for (const v of verdicts) lines.push(`| ${v.target} | ${format(v.value, 2)} | ${v.met === null ? '–' : v.met ? 'yes' : 'no'} |`)
  }
  const failures = failuresOf(results)
  lines.push('', failures.length === 0 ? 'No delivery lost, duplicated or misaddressed.' : `**${failures.length} failure(s):**`)
  for (const f of failures) lines.push(`- ${f}`)
  const warnings = warningsOf(results)
  if (warnings.length > 0) lines.push('', `${warnings.length} warning(s), publish requests lost by the network, not deliveries lost by a contender:`)
  for (const w of warnings) lines.push(`- ${w}`)
  return `${lines.join('\n')}\n`
}

function eachRun (results: Results, lines: (r: ScenarioResult) => string[]): string[] {
  const out: string[] = []
  for (const [scenario, byContender] of Object.entries(results)) {
    for (const [contender, runs] of Object.entries(byContender ?? {})) {
      runs?.forEach((r, i) => {
        for (const line of lines(r)) out.push(`${scenario} ${contender} #${i + 1}: ${line}`)
      })
    }
  }
  return out
}

export function failuresOf (results: Results): string[] {
  return eachRun(results, (r) => [...r.failures, ...r.duplicates + r.unexpected > 0 ? [`${r.duplicates} duplicates, ${r.unexpected} unexpected`] : []])
}

export function warningsOf (results: Results): string[] {
  return eachRun(results, (r) => r.warnings)
}

export function writeReport (dir: string, results: Results, info: RunInfo): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `bench-${info.started.toISOString().replace(/[:.]/g, '-')}.md`)
  writeFileSync(file, markdown(results, info))
  return file
}

/** The one-line JSON summary: medians per measure and contender, targets, failures. */
export function jsonSummary (results: Results, info: RunInfo, file: string): string {
  const medians: Record<string, Record<string, number>> = {}
  for (const row of ROWS) {
    if (results[row.scenario] === undefined) continue
    medians[`${row.scenario}.${row.metric}`] = Object.fromEntries(CONTENDERS.map((c) => [c, summaryOf(results, row.scenario, c, row.metric).median]))
  }
  const cluster = results.cluster === undefined ? {} : { cluster: clusterMedians(results.cluster) }
  return JSON.stringify({ report: file, command: info.command, repeats: info.repeats, slowRepeats: info.slowRepeats, durationS: Math.round(info.durationS), conditions: info.conditions, medians, ...cluster, targets: targetVerdicts(results), failures: failuresOf(results).length, warnings: warningsOf(results).length })
}
