import type { GatewayEvent } from '../src/client/index.js'
import { addressOf, subjectOf } from './event-fields.js'
import { severityOf } from './severity.js'

/** A test of one event; the filter holds when every term does. */
export type EventTest = (event: GatewayEvent) => boolean

/** The values a field term reads; any other name is a `data` field (`data.` prefix optional). */
const FIELDS: Readonly<Record<string, (event: GatewayEvent) => ReadonlyArray<string | undefined>>> = {
  type: (e) => [e.type],
  user: (e) => [subjectOf(e), e.userId, e.sender],
  address: (e) => [addressOf(e)],
  ip: (e) => [addressOf(e)],
  room: (e) => e.groups ?? [],
  group: (e) => e.groups ?? [],
  sender: (e) => [e.sender],
  severity: (e) => [severityOf(e.type, e.data.reason)],
  id: (e) => [e.id]
}

function dataField (name: string): (event: GatewayEvent) => ReadonlyArray<string | undefined> {
  const key = name.startsWith('data.') ? name.slice(5) : name
  return (e) => {
    const value = e.data[key]
    if (value === undefined) return []
    return [typeof value === 'string' ? value : JSON.stringify(value)]
  }
}

function termTest (term: string): EventTest {
  const field = /^([\w.-]+)([:=])(.*)$/.exec(term)
  if (field === null) {
    const needle = term.toLowerCase()
    return (e) => JSON.stringify(e).toLowerCase().includes(needle)
  }
  const [, name = '', operator, raw = ''] = field
  const read = FIELDS[name.toLowerCase()] ?? dataField(name)
  const wanted = raw.toLowerCase()
  // `=` for an exact value (a click on an offender), `:` for a part of one.
  const matches = operator === '='
    ? (value: string) => value.toLowerCase() === wanted
    : (value: string) => value.toLowerCase().includes(wanted)
  return (e) => read(e).some((value) => value !== undefined && matches(value))
}

/**
 * The list's filter: words separated by spaces, each `field:part`, `field=value` or free text
 * (searched in the whole event). Fields: type, user, address (ip), room (group), sender,
 * severity, id, or any `data` field by name.
 */
export function parseFilter (text: string): EventTest | undefined {
  const tests = text.trim().split(/\s+/).filter((term) => term !== '').map(termTest)
  if (tests.length === 0) return undefined
  return (event) => tests.every((test) => test(event))
}
