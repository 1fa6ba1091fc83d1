/**
 * Event ids are `<milliseconds>-<sequence>` and a later event has a greater id on every
 * instance, so the last id delivered says exactly which events were already seen.
 */
const EVENT_ID = /^\d{1,16}-\d{1,16}$/

export function isEventId (value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID.test(value)
}

/** Negative when `a` comes before `b`, positive after, 0 for the same id. */
export function compareEventIds (a: string, b: string): number {
  const dashA = a.indexOf('-')
  const dashB = b.indexOf('-')
  const ms = Number(a.slice(0, dashA)) - Number(b.slice(0, dashB))
  return ms !== 0 ? ms : Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1))
}
