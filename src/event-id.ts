/**
 * Event ids are `<milliseconds>-<sequence>`, the form of Redis stream ids: ordered by time, then
 * by sequence within a millisecond, so a client's last id says exactly where to resume.
 */
export const EVENT_ID_PATTERN = /^\d{1,16}-\d{1,16}$/

export function isEventId (value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value)
}

/** Negative when `a` comes before `b`, positive after, 0 for the same id. */
export function compareIds (a: string, b: string): number {
  const dashA = a.indexOf('-')
  const dashB = b.indexOf('-')
  const ms = Number(a.slice(0, dashA)) - Number(b.slice(0, dashB))
  return ms !== 0 ? ms : Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1))
}

/** Issues increasing ids in this process, as Redis does for a stream. */
export class IdClock {
  private lastMs = 0
  private sequence = 0

  next (now: number = Date.now()): string {
    if (now > this.lastMs) {
      this.lastMs = now
      this.sequence = 0
    } else {
      this.sequence++
    }
    return `${this.lastMs}-${this.sequence}`
  }
}
