import type { ClientState, CloseInfo, EventgateError, GatewayEvent, ReconnectInfo, Stream } from '../src/client/index.js'
import { ClusterPanel } from './cluster-panel.js'
import { Connection } from './connection.js'
import { byId } from './dom.js'
import { EventList, isOperatorEvent } from './event-list.js'
import { TypeCounters } from './type-counters.js'

/** Rows kept in the DOM: enough to scroll back through a burst, few enough that a day-long session stays small. */
const LIST_LIMIT = 500
const SECURITY_LIST_LIMIT = 50
/** Counters follow a burst at most this often; the table is rebuilt each time. */
const COUNTERS_DELAY_MS = 250

const ui = {
  state: byId('state', HTMLElement),
  message: byId('message', HTMLElement),
  token: byId('token', HTMLTextAreaElement),
  connectForm: byId('connect-form', HTMLFormElement),
  disconnect: byId('disconnect', HTMLButtonElement),
  devForm: byId('dev-token-form', HTMLFormElement),
  devSub: byId('dev-sub', HTMLInputElement),
  devAdmin: byId('dev-admin', HTMLInputElement),
  filterForm: byId('filter-form', HTMLFormElement),
  patterns: byId('patterns', HTMLInputElement),
  pause: byId('pause', HTMLButtonElement),
  clear: byId('clear', HTMLButtonElement),
  listStatus: byId('list-status', HTMLElement),
  counters: byId('counters', HTMLTableSectionElement),
  totalCount: byId('total-count', HTMLElement),
  totalRate: byId('total-rate', HTMLElement),
  adminPanel: byId('admin-panel', HTMLElement),
  json: byId('event-json', HTMLElement)
}

const showJson = (event: GatewayEvent): void => { ui.json.textContent = JSON.stringify(event, null, 2) }
const events = new EventList(byId('event-list', HTMLOListElement), LIST_LIMIT, showJson, (status) => { ui.listStatus.textContent = status })
const securityEvents = new EventList(byId('security-list', HTMLOListElement), SECURITY_LIST_LIMIT, showJson)
const counters = new TypeCounters()
const cluster = new ClusterPanel()
let connection: Connection | undefined
/** Counts connections: a closed one may still report (its last state change) and must not touch the page. */
let generation = 0
let stream: Stream = 'events'
let countersDue: ReturnType<typeof setTimeout> | undefined

function say (text: string, error = false): void {
  ui.message.textContent = text
  ui.message.classList.toggle('error', error)
}

function patterns (): string[] {
  return [...new Set(ui.patterns.value.split(/[\s,]+/).filter((p) => p !== ''))]
}

function onEvent (event: GatewayEvent): void {
  counters.record(event.type)
  countersDue ??= setTimeout(renderCounters, COUNTERS_DELAY_MS)
  events.add(event)
  if (stream === 'admin' && isOperatorEvent(event.type)) securityEvents.add(event)
}

let stateTimer: ReturnType<typeof setInterval> | undefined

/** The badge: the connection's state. */
function showState (state: ClientState): void {
  clearInterval(stateTimer)
  ui.state.dataset.state = state
  ui.state.textContent = state
}

/** While the SDK waits before its next attempt: the countdown, and the close that caused it. */
function showCountdown ({ attempt, delayMs, cause }: ReconnectInfo): void {
  clearInterval(stateTimer)
  const due = Date.now() + delayMs
  const why = cause === undefined ? '' : ` after ${cause.code}${cause.reason === '' ? '' : ` ${cause.reason}`}`
  const tick = (): void => {
    const left = Math.max(0, Math.ceil((due - Date.now()) / 1000))
    ui.state.textContent = `${ui.state.dataset.state ?? ''} · attempt ${attempt} ${left === 0 ? 'now' : `in ${left} s`}${why}`
    if (left === 0) clearInterval(stateTimer)
  }
  tick()
  stateTimer = setInterval(tick, 250)
}

function onState (state: ClientState, cause?: CloseInfo): void {
  showState(state)
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
  const wanted = patterns()
  if (wanted.length === 0) {
    say('enter at least one pattern, such as authentication.* or *', true)
    return
  }
  const refused = await current.setPatterns(wanted)
  if (current !== connection) return
  if (refused.length > 0) say(refused.join('; '), true)
  else say(`subscribed to ${wanted.join(', ')}`)
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
  connection = new Connection(token, stream, {
    event: (event) => { if (current === generation) onEvent(event) },
    state: (state, cause) => { if (current === generation) onState(state, cause) },
    reconnect: (info) => { if (current === generation) showCountdown(info) },
    error: (err) => { if (current === generation) onError(err) }
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
  showState('closed')
}

async function mintDevToken (): Promise<void> {
  const roles = ui.devAdmin.checked ? ['admin'] : []
  const response = await fetch('/dashboard/dev-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: ui.devSub.value.trim(), roles })
  })
  const body = await response.json() as { token?: string, expiresAt?: string, message?: string }
  if (!response.ok || body.token === undefined) throw new Error(body.message ?? `dev token refused: ${response.status}`)
  ui.token.value = body.token
  const radio = ui.connectForm.querySelector<HTMLInputElement>(`input[name="stream"][value="${roles.length > 0 ? 'admin' : 'events'}"]`)
  if (radio !== null) radio.checked = true
  say(`development token for ${ui.devSub.value.trim()}, valid until ${new Date(body.expiresAt ?? '').toLocaleTimeString()}`)
}

ui.connectForm.addEventListener('submit', (e) => {
  e.preventDefault()
  connect()
})
ui.disconnect.addEventListener('click', () => {
  disconnect()
  say('disconnected')
})
ui.filterForm.addEventListener('submit', (e) => {
  e.preventDefault()
  subscribe().catch((err: unknown) => { say((err as Error).message, true) })
})
ui.pause.addEventListener('click', () => {
  if (events.isPaused) events.resume()
  else events.pause()
  ui.pause.textContent = events.isPaused ? 'Resume' : 'Pause'
  ui.pause.setAttribute('aria-pressed', String(events.isPaused))
})
ui.clear.addEventListener('click', () => {
  events.clear()
  securityEvents.clear()
  counters.reset()
  renderCounters()
})
ui.devForm.addEventListener('submit', (e) => {
  e.preventDefault()
  mintDevToken().catch((err: unknown) => { say((err as Error).message, true) })
})
ui.devForm.hidden = document.body.dataset.development === undefined

function renderCounters (): void {
  clearTimeout(countersDue)
  countersDue = undefined
  const { total, perSecond } = counters.render(ui.counters)
  ui.totalCount.textContent = String(total)
  ui.totalRate.textContent = perSecond.toFixed(1)
}
// Rates move with time, not only with events: refreshed every second.
setInterval(renderCounters, 1000)
