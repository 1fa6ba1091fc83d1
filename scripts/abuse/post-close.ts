import { type Check, addresses, seconds } from './check.js'
import { http } from './http.js'
import { Client, RawWebSocket } from './sockets.js'
import { userToken } from './tokens.js'

const CONNECT_MS = 5000
/** Past WEBSOCKET_MESSAGE_BURST (100) and WEBSOCKET_MESSAGE_ABUSE_LIMIT (50) refusals: the 1008 comes within these. */
const FRAMES_TO_CLOSE = 1000
/** Lines about the connection written after its close frame that are still in flight, not caused by later frames. */
const LINES_ALLOWED = 5
const GONE_MS = 5000
const PATTERNS = 100_000
/** Subscribes sent, one after the other, so the CPU they cost stands out from the control traffic's. */
const SUBSCRIBES = 10
const CPU_BOUND_MS = 60
/** Long enough for /proc's 10 ms ticks to measure the instance's background CPU. */
const BASELINE_MS = 1000
const LOG_WAIT_MS = 10_000

/**
 * A socket flooding frames until the server closes it 1008, then writing more as if nothing
 * happened (a raw client, not a library that stops at the close frame).
 */
export const postCloseFlood: Check = {
  attack: '6 post-close flood',
  limit: `after the 1008 close: no log line or audit record per frame (≤ ${LINES_ALLOWED} lines), socket gone within ${GONE_MS / 1000} s`,
  async run ({ lab, sizes }) {
    const target = lab.a
    const user = `flooder-${Date.now()}`
    const [from] = addresses(6, 1) as [string]
    const lines = target.output.watch(`"${user}"`)
    const raw = new RawWebSocket(target.port, '/ws/events', { authorization: `Bearer ${userToken(user)}` }, from)
    await Promise.race([raw.answered, new Promise((resolve) => setTimeout(resolve, CONNECT_MS))])
    if (raw.status !== 101) {
      target.output.unwatch(lines)
      raw.destroy()
      return { held: false, observed: `upgrade answered ${raw.status}` }
    }
    for (let sent = 0; sent < FRAMES_TO_CLOSE && raw.writable; sent++) await raw.sendText('{"type":"ping"}')
    await Promise.race([raw.spoke.then(async () => await closeFrame(raw)), new Promise((resolve) => setTimeout(resolve, CONNECT_MS))])
    const closedAt = raw.closeFrameAt ?? performance.now()
    const linesAtClose = lines.count
    let after = 0
    while (raw.writable && after < sizes.framesAfterClose) {
      await raw.sendText('{"type":"ping"}')
      after++
    }
    await Promise.race([raw.ended, new Promise((resolve) => setTimeout(resolve, Math.max(0, closedAt + GONE_MS - performance.now())))])
    const goneAfter = raw.endedAt === undefined ? undefined : raw.endedAt - closedAt
    raw.destroy()
    // A request logged after everything the socket caused: its line marks the end of theirs.
    const marker = `/abuse-marker-${user}`
    await http(target.port, { path: marker, from })
    await target.output.seen(marker, LOG_WAIT_MS)
    target.output.unwatch(lines)
    const extra = lines.count - linesAtClose
    const code = raw.closeFrame?.code
    return {
      held: code === 1008 && extra <= LINES_ALLOWED && goneAfter !== undefined && goneAfter <= GONE_MS,
      observed: `closed ${code ?? 'never'}; ${after} frames written after it, ${extra} log lines; ` +
        `socket ${goneAfter === undefined ? `still open after ${seconds(GONE_MS)}` : `gone after ${seconds(goneAfter)}`}`
    }
  }
}

/** Resolves once the server's close frame has been read, or the socket ended. */
async function closeFrame (raw: RawWebSocket): Promise<void> {
  while (raw.closeFrame === undefined && raw.endedAt === undefined) await new Promise((resolve) => setTimeout(resolve, 10))
}

/**
 * `subscribe` frames naming a hundred thousand patterns each, a thousand times
 * WEBSOCKET_MAX_SUBSCRIPTIONS. Time on a loaded machine is mostly the megabyte's transfer and
 * parse; the instance's CPU per frame tells whether it validated every pattern before counting.
 */
export const oversizedSubscribe: Check = {
  attack: '6 oversized subscribe',
  limit: `${PATTERNS.toLocaleString('en')} patterns: TOO_MANY_SUBSCRIPTIONS, ≤ ${CPU_BOUND_MS} ms of instance CPU each`,
  async run ({ lab }) {
    const [from] = addresses(61, 1) as [string]
    const client = Client.open(lab.a.port, userToken('pattern-hoarder'), from)
    if (!await client.connected(CONNECT_MS)) return { held: false, observed: 'could not connect' }
    const eventTypes = Array.from({ length: PATTERNS }, (_, i) => `p${i}.*`)
    const frames = Array.from({ length: SUBSCRIBES }, (_, i) => JSON.stringify({ type: 'subscribe', id: `hoard-${i}`, payload: { eventTypes } }))
    const codes = new Map<string, number>()
    // What the instance spends meanwhile on the control traffic, taken off what the frames cost.
    const idle0 = lab.a.cpuSeconds() ?? 0
    const i0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, BASELINE_MS))
    const cpu0 = lab.a.cpuSeconds() ?? idle0
    const background = (cpu0 - idle0) / (performance.now() - i0)
    const t0 = performance.now()
    for (const [i, frame] of frames.entries()) {
      client.send(frame)
      const reply = await client.next((f) => f.id === `hoard-${i}`, 30_000)
      const code = reply?.type === 'error' ? String(reply.payload.code) : reply?.type ?? 'no answer'
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
    const elapsed = performance.now() - t0
    const perFrameMs = Math.max(0, ((lab.a.cpuSeconds() ?? cpu0) - cpu0 - background * elapsed) * 1000 / SUBSCRIBES)
    const ms = elapsed / SUBSCRIBES
    const closed = client.isOpen ? undefined : await client.closed
    client.close()
    const answers = [...codes].map(([code, n]) => `${n}×${code}`).join(', ')
    return {
      held: codes.get('TOO_MANY_SUBSCRIPTIONS') === SUBSCRIBES && perFrameMs <= CPU_BOUND_MS,
      observed: `${answers}${closed === undefined ? '' : ` (closed ${closed.code})`}; ${perFrameMs.toFixed(0)} ms CPU and ${ms.toFixed(0)} ms each`
    }
  }
}
