import type { LegitFigures } from './legit.js'
import type { Spent } from './measure.js'

/** One check's line of the report. */
export interface Row {
  attack: string
  limit: string
  held: boolean
  observed: string
  spent: Spent
  legit: LegitFigures
}

/**
 * Legitimate traffic came through: every control event delivered, every health check 200, but
 * for the 503s of a Redis outage a check caused (counted apart, see LegitFigures).
 */
export const legitOk = (row: Row): boolean => row.legit.sent > 0 && row.legit.received === row.legit.sent && row.legit.healthFailures === 0

const max = (values: Record<string, number>): number => Math.max(0, ...Object.values(values))
const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0)
const cell = (text: string): string => text.replace(/\|/g, '\\|')

const ms = (value: number): string => Number.isNaN(value) ? '–' : value.toFixed(0)

function legitCell ({ legit }: Row): string {
  const health = `health p99 ${ms(legit.healthP99Ms)} ms${legit.healthFailures > 0 ? `, ${legit.healthFailures} FAILED` : ''}`
  const outage = legit.outagePublishes + legit.outageHealth === 0
    ? ''
    : `; during the Redis outage, as documented: ${legit.outagePublishes} publishes and ${legit.outageHealth} health checks answered 503`
  return `${health}${outage}; ${legit.received}/${legit.sent} delivered, publish p99 ${ms(legit.publishP99Ms)} ms`
}

/** The report as a Markdown table: memory is the largest instance's peak RSS growth, CPU the instances' sum. */
export function markdownTable (rows: Row[]): string {
  const lines = [
    '| attack | limit (what must hold) | held | observed | memory (MB) | CPU (s) | legitimate traffic |',
    '| --- | --- | :---: | --- | ---: | ---: | --- |'
  ]
  for (const row of rows) {
    const died = row.spent.died.length > 0 ? ` (${row.spent.died.join(', ')} died)` : ''
    lines.push(`| ${cell(row.attack)} | ${cell(row.limit)} | ${row.held ? 'yes' : 'NO'} | ${cell(row.observed)}${died} | ` +
      `${max(row.spent.rssGrowthMb).toFixed(0)} | ${sum(row.spent.cpuSeconds).toFixed(1)} | ${legitOk(row) ? '' : 'LOST: '}${legitCell(row)} |`)
  }
  return lines.join('\n')
}
