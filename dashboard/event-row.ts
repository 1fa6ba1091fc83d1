import type { GatewayEvent } from '../src/client/index.js'
import { el } from './dom.js'
import { addressOf, audienceOf, reasonOf, subjectOf } from './event-fields.js'
import { severityOf } from './severity.js'
import { clock } from './time-format.js'

/** Longest `data` preview in a row; the whole event is one click away. */
const PREVIEW_CHARS = 160
/** Fields given a column of their own, left out of the preview. */
const SHOWN = new Set(['ip', 'reason', 'userId'])

/**
 * Who the row is about. An audit event goes to admins only: its subject (the user it names)
 * says more than its audience.
 */
function whoOf (event: GatewayEvent): string {
  return event.audience === 'admin' ? subjectOf(event) ?? '–' : audienceOf(event)
}

function previewOf (event: GatewayEvent): string {
  const rest = Object.fromEntries(Object.entries(event.data).filter(([key]) => !SHOWN.has(key)))
  if (Object.keys(rest).length === 0) return ''
  const data = JSON.stringify(rest)
  return data.length > PREVIEW_CHARS ? `${data.slice(0, PREVIEW_CHARS)}…` : data
}

/** One event as a list row, every field as text: publishers choose them. */
export function eventRow (event: GatewayEvent): HTMLLIElement {
  const severity = severityOf(event.type, event.data.reason)
  const row = el('li', `event sev-${severity}`)
  row.tabIndex = 0
  row.dataset.type = event.type
  row.dataset.severity = severity
  const who = whoOf(event)
  const address = addressOf(event) ?? ''
  const reason = reasonOf(event)
  const detail = el('span', 'event-data')
  if (reason !== undefined) detail.append(el('span', 'event-reason', reason), ' ')
  if (event.sender !== undefined) detail.append(el('span', 'event-sender', `from ${event.sender}`), ' ')
  detail.append(previewOf(event))
  const cells = [
    el('time', 'event-time', clock(event.timestamp)),
    el('span', 'event-type', event.type),
    el('span', 'event-user', who),
    el('span', 'event-address', address),
    detail
  ]
  for (const cell of cells) cell.title = cell.textContent ?? ''
  row.append(...cells)
  return row
}

/** The seam of a reconnect: events above it came after, the replayed ones first. */
export function dividerRow (text: string): HTMLLIElement {
  const row = el('li', 'divider', text)
  row.setAttribute('role', 'separator')
  return row
}
