/**
 * Event ids are `<milliseconds>-<sequence>`, the form of Redis stream ids, issued by the clock of
 * one partition of the event log: ordered by time, then by sequence within a millisecond. A
 * gateway that runs several partitions names the partition in front (`p3:1732380000000-0`,
 * `b:…`, `a:…`), and ids are ordered within their partition only. An id without a partition
 * belongs to `p0`, the one partition of a gateway that runs one.
 */
export const EVENT_ID_PATTERN = /^(?:(?:p\d{1,3}|a|b):)?\d{1,16}-\d{1,16}$/

/** The partition of a gateway that runs one, and of every id that names none. */
export const ONLY_PARTITION = 'p0'

export function isEventId (value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value)
}

/** The partition an id comes from. */
export function partitionOf (id: string): string {
  const colon = id.indexOf(':')
  return colon < 0 ? ONLY_PARTITION : id.slice(0, colon)
}

/** The `<ms>-<seq>` part of an id: its place in its partition's stream. */
export function localId (id: string): string {
  return id.slice(id.indexOf(':') + 1)
}

/**
 * Negative when `a` comes before `b`, positive after, 0 for the same place. Both ids must come
 * from one partition: their partitions are not compared.
 */
export function compareIds (a: string, b: string): number {
  const startA = a.indexOf(':') + 1
  const startB = b.indexOf(':') + 1
  const dashA = a.indexOf('-', startA)
  const dashB = b.indexOf('-', startB)
  const ms = Number(a.slice(startA, dashA)) - Number(b.slice(startB, dashB))
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
