/**
 * One clock for the whole page: 24-hour local time, the zone named once where it is not on
 * every row (`14:03:04.567`, and `14:03:04 GMT+1` where a time stands alone).
 */
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
const MINUTE = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
const ZONE = new Intl.DateTimeFormat(undefined, { timeZoneName: 'shortOffset' })

/** The local zone as `GMT+1` (`GMT` for UTC). */
export function zoneName (date: Date = new Date()): string {
  return ZONE.formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? 'local'
}

/** `14:03:04.567` for a row, or the text as given when it is not a date. */
export function clock (timestamp: string): string {
  const date = new Date(timestamp)
  if (Number.isNaN(date.getTime())) return timestamp
  return `${TIME.format(date)}.${String(date.getMilliseconds()).padStart(3, '0')}`
}

/** `14:03:04 GMT+1`: a time shown on its own, with its zone. */
export function timeWithZone (date: Date): string {
  if (Number.isNaN(date.getTime())) return 'unknown'
  return `${TIME.format(date)} ${zoneName(date)}`
}

/** `14:03`: the chart's time axis, in the same clock as the rows. */
export function hourMinute (date: Date): string {
  return MINUTE.format(date)
}
