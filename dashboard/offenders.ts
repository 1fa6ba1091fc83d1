import type { GatewayEvent } from '../src/client/index.js'
import { addressOf, isAuthFailure, isLockout, subjectOf, weightOf } from './event-fields.js'
import { WINDOW_SECONDS } from './rate-series.js'

/** Reports remembered; past it the oldest go first. An attack must not grow the page without bound. */
const MAX_REPORTS = 10_000

interface Report { at: number, address: string | undefined, user: string | undefined, weight: number }

export interface Offender { key: string, count: number }

/**
 * Failed authentications and lockouts over the chart's window, by address and by user: who is
 * knocking, and whom they are knocking for.
 */
export class Offenders {
  private reports: Report[] = []

  /** Tallies `event` when it is a failure or a lockout; true when it was. */
  record (event: GatewayEvent, nowMs: number = Date.now()): boolean {
    if (!isAuthFailure(event) && !isLockout(event)) return false
    const at = Math.min(Date.parse(event.timestamp) || nowMs, nowMs)
    this.reports.push({ at, address: addressOf(event), user: subjectOf(event), weight: weightOf(event) })
    if (this.reports.length > MAX_REPORTS) this.reports = this.reports.slice(-MAX_REPORTS)
    return true
  }

  reset (): void {
    this.reports = []
  }

  /** The `limit` busiest addresses and users within the window, busiest first. */
  top (limit: number, nowMs: number = Date.now()): { addresses: Offender[], users: Offender[] } {
    const since = nowMs - WINDOW_SECONDS * 1000
    this.reports = this.reports.filter((r) => r.at > since)
    const tally = (field: 'address' | 'user'): Offender[] => {
      const counts = new Map<string, number>()
      for (const report of this.reports) {
        const key = report[field]
        if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + report.weight)
      }
      return [...counts].map(([key, count]) => ({ key, count }))
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)).slice(0, limit)
    }
    return { addresses: tally('address'), users: tally('user') }
  }
}
