import type { ClientState, CloseInfo, ConnectedInfo, EventgateError, GatewayEvent, ResumedInfo, Stream } from '../src/client/index.js'
import { ClusterPanel } from './cluster-panel.js'
import { Connection } from './connection.js'
import { bindDevTokenForm } from './dev-token.js'
import { byId } from './dom.js'
import { parseFilter } from './event-filter.js'
import { namespaceOf } from './event-fields.js'
import { EventList, type ListStatus, statusText } from './event-list.js'
import { Offenders } from './offenders.js'
import { OffendersPanel } from './offenders-panel.js'
import { RateChart } from './rate-chart.js'
import { RoomSuggestions } from './room-suggestions.js'
import { sessionLine } from './session-line.js'
import { StateBadge } from './state-badge.js'
import { zoneName } from './time-format.js'
import { TypeCounters } from './type-counters.js'

/** Rows kept in the DOM: enough to scroll back through a burst, few enough that a day-long session stays small. */
const LIST_LIMIT = 500
const SECURITY_LIST_LIMIT = 50

const ui = {
  message: byId('message', HTMLElement),
  session: byId('session', HTMLElement),
  token: byId('token', HTMLTextAreaElement),
  connectForm: byId('connect-form', HTMLFormElement),
  disconnect: byId('disconnect', HTMLButtonElement),
  patternForm: byId('pattern-form', HTMLFormElement),
  patterns: byId('patterns', HTMLInputElement),
  filter: byId('filter', HTMLInputElement),
  pause: byId('pause', HTMLButtonElement),
  clear: byId('clear', HTMLButtonElement),
  listStatus: byId('list-status', HTMLElement),
  firstRun: byId('first-run', HTMLElement),
  counters: byId('counters', HTMLTableSectionElement),
  totalCount: byId('total-count', HTMLElement),
  totalRate: byId('total-rate', HTMLElement),
  adminPanel: byId('admin-panel', HTMLElement),
  json: byId('event-json', HTMLElement)
}

const showJson = (event: GatewayEvent): void => { ui.json.textContent = JSON.stringify(event, null, 2) }
function showStatus (status: ListStatus): void {
  ui.listStatus.textContent = statusText(status)
  ui.pause.textContent = status.paused ? `Resume (${status.waiting} waiting)` : 'Pause'
  ui.firstRun.hidden = status.rows > 0 || status.waiting > 0
}
const events = new EventList(byId('event-list', HTMLOListElement), LIST_LIMIT, showJson, showStatus)
const securityEvents = new EventList(byId('security-list', HTMLOListElement), SECURITY_LIST_LIMIT, showJson)
const counters = new TypeCounters()
const chart = new RateChart(byId('rate-chart', HTMLElement))
const offenders = new Offenders()
const offendersPanel = new OffendersPanel(offenders, byId('top-addresses', HTMLOListElement), byId('top-users', HTMLOListElement), (filter) => {
  ui.filter.value = filter
  applyFilter()
}, () => ui.filter.value)
const rooms = new RoomSuggestions(byId('filter-suggestions', HTMLDataListElement))
const cluster = new ClusterPanel()
const badge = new StateBadge(byId('state', HTMLElement))
let connection: Connection | undefined
/** Counts connections: a closed one may still report (its last state change) and must not touch the page. */
let generation = 0
let stream: Stream = 'events'

function say (text: string, error = false): void {
  ui.message.textContent = text
  ui.message.classList.toggle('error', error)
}

function applyFilter (): void {
  const test = parseFilter(ui.filter.value)
  events.setFilter(test)
  securityEvents.setFilter(test)
  offendersPanel.render()
}

function onEvent (event: GatewayEvent): void {
  counters.record(event.type)
  chart.series.record(namespaceOf(event.type), Date.parse(event.timestamp))
  if (offenders.record(event)) offendersPanel.render()
  rooms.note(event.groups)
  events.add(event)
  if (stream === 'admin' && (event.type.startsWith('security.') || event.type.startsWith('system.'))) securityEvents.add(event)
}

function onState (state: ClientState, cause?: CloseInfo): void {
  badge.show(state)
  if (state !== 'closed') return
  if (cause !== undefined) say(`closed ${cause.code}${cause.reason === '' ? '' : ` ${cause.reason}`}`, true)
  disconnect()
}

async function subscribe (): Promise<void> {
  const current = connection
  if (current === undefined) {
    say('not connected: the patterns apply when you connect')
    return
  }
  const outcome = await current.applyPatterns(ui.patterns.value)
  if (current === connection) say(outcome.text, outcome.error)
}

/**
 * The page's token never changes: once the gateway refuses it, retrying cannot succeed and
 * would count as authentication failures against this address until it is blocked.
 */
function onError (err: EventgateError): void {
  say(err.message, true)
  if (err.status === 401 || err.closeCode === 4001) disconnect()
}

function connect (): void {
  disconnect()
  const token = ui.token.value.trim()
  if (token === '') {
    say('paste a token first', true)
    return
  }
  stream = new FormData(ui.connectForm).get('stream') === 'admin' ? 'admin' : 'events'
  const current = ++generation
  const live = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => { if (current === generation) fn(...args) }
  connection = new Connection(token, stream, {
    event: live(onEvent),
    state: live(onState),
    reconnect: live((info) => { badge.countdown(info) }),
    error: live(onError),
    connected: live((info: ConnectedInfo) => { ui.session.textContent = sessionLine(info, token, stream) }),
    resumed: live(({ replayed, truncated }: ResumedInfo) => {
      events.add({ divider: `reconnected, ${replayed} replayed${truncated ? ' · older missed events are no longer held' : ''}` })
    })
  })
  ui.disconnect.disabled = false
  ui.adminPanel.hidden = stream !== 'admin'
  if (stream === 'admin') cluster.start(token)
  subscribe().catch((err: unknown) => { say((err as Error).message, true) })
}

function disconnect (): void {
  generation++
  connection?.close()
  connection = undefined
  cluster.stop()
  ui.disconnect.disabled = true
  ui.session.textContent = 'not connected'
  badge.show('closed')
}

ui.connectForm.addEventListener('submit', (e) => {
  e.preventDefault()
  connect()
})
ui.disconnect.addEventListener('click', () => {
  disconnect()
  say('disconnected')
})
ui.patternForm.addEventListener('submit', (e) => {
  e.preventDefault()
  subscribe().catch((err: unknown) => { say((err as Error).message, true) })
})
ui.filter.addEventListener('input', applyFilter)
ui.pause.addEventListener('click', () => {
  if (events.isPaused) events.resume()
  else events.pause()
  ui.pause.setAttribute('aria-pressed', String(events.isPaused))
})
ui.clear.addEventListener('click', () => {
  events.clear()
  securityEvents.clear()
  counters.reset()
  chart.reset()
  offenders.reset()
  tick()
})
bindDevTokenForm({
  form: byId('dev-token-form', HTMLFormElement),
  sub: byId('dev-sub', HTMLInputElement),
  admin: byId('dev-admin', HTMLInputElement),
  use: (token, chosen) => {
    ui.token.value = token
    const radio = ui.connectForm.querySelector<HTMLInputElement>(`input[name="stream"][value="${chosen}"]`)
    if (radio !== null) radio.checked = true
  },
  say
})
byId('time-zone', HTMLElement).textContent = `time (${zoneName()})`

/** Rates and the window move with time, not only with events: redrawn every second. */
function tick (): void {
  const { total, perSecond } = counters.render(ui.counters)
  ui.totalCount.textContent = String(total)
  ui.totalRate.textContent = perSecond.toFixed(1)
  chart.draw()
  offendersPanel.render()
}
tick()
setInterval(tick, 1000)
