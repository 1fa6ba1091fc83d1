import { once } from 'node:events'
import type { Socket } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { until } from '../../harness/ports.js'
import { MEASURED_YOUNG_GENERATION, startGatewayProcess } from '../../harness/process.js'
import type { Teardown } from '../../harness/teardown.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { post } from '../helpers/gateway.js'
import { memory } from '../helpers/memory.js'
import { within } from '../helpers/within.js'

const MAX_BUFFERED = 256 * 1024
const DATA_CHARS = 16_000
/** Events per publish: just under the 1 MiB body limit. */
const BATCH = 60
const BATCHES = 160
/** What the slow consumer would cost the gateway unbounded: every event it is sent, held. */
const PUBLISHED_BYTES = BATCH * BATCHES * DATA_CHARS

/** A subscriber that keeps only the ids of its events, so 150 MB of frames cost the test nothing. */
class IdClient {
  readonly ids: string[] = []
  readonly closed: Promise<{ code: number, reason: string }>

  private constructor (readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    socket.on('error', () => {})
  }

  static async subscribe (t: Teardown, url: string, user: string): Promise<IdClient> {
    const client = new IdClient(new WebSocket(url, { headers: { authorization: `Bearer ${userToken(user)}` } }))
    t.teardown(() => { client.socket.terminate() })
    await within(once(client.socket, 'message'), 5000, `${user} connected`)
    client.socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { eventTypes: ['load.*'] } }))
    await within(once(client.socket, 'message'), 5000, `${user} subscribed`)
    client.socket.on('message', (data: Buffer) => {
      // `{"type":"event","payload":{"id":"…"`: the id is in the first bytes.
      const id = /"payload":\{"id":"([^"]+)"/.exec(data.subarray(0, 80).toString())?.[1]
      if (id !== undefined) client.ids.push(id)
    })
    return client
  }

  /** Stops reading its TCP socket: what the gateway sends piles up in the kernel, then in the gateway. */
  stopReading (): Socket {
    const socket = (this.socket as unknown as { _socket: Socket })._socket
    socket.pause()
    return socket
  }
}

t.test('a client that stops reading is closed 4009 with its resume id; memory stays bounded; the others get every event', async (t) => {
  const gw = await startGatewayProcess(t, {
    WEBSOCKET_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
    // The history would hold the events itself: keep it small, so memory shows the sockets.
    HISTORY_MAX_EVENTS: '10'
  }, MEASURED_YOUNG_GENERATION)
  const pid = gw.child.pid ?? 0
  const url = `${gw.wsUrl}/ws/events`
  const slow = await IdClient.subscribe(t, url, 'slow')
  const others = [await IdClient.subscribe(t, url, 'fast-1'), await IdClient.subscribe(t, url, 'fast-2')]
  const slowSocket = slow.stopReading()

  const baseline = memory(pid).rss
  let peak = baseline
  const published: string[] = []
  const refused: number[] = []
  const data = { blob: 'x'.repeat(DATA_CHARS) }
  for (let b = 0; b < BATCHES; b++) {
    const events = Array.from({ length: BATCH }, (_, i) => ({ type: `load.${b % 8}`, data: { ...data, n: b * BATCH + i } }))
    const { status, body } = await post(`${gw.url}/events`, { events }, serviceToken())
    if (status === 202) published.push(...body.ids as string[])
    else refused.push(status)
    peak = Math.max(peak, memory(pid).rss)
  }
  t.same(refused, [], 'every publish answered 202')
  await until(() => others.every((c) => c.ids.length >= published.length), 20_000, 'the other clients to have every event')
  peak = Math.max(peak, memory(pid).peak)
  for (const client of others) t.same(client.ids, published, 'every event, in order, once')
  const growth = peak - baseline
  t.comment(`RSS ${(baseline / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB; ${(PUBLISHED_BYTES / 2 ** 20).toFixed(0)} MiB published`)
  t.ok(growth < PUBLISHED_BYTES / 3, `RSS grew ${(growth / 2 ** 20).toFixed(0)} MiB, far less than the ${(PUBLISHED_BYTES / 2 ** 20).toFixed(0)} MiB an unbounded buffer would hold`)

  slowSocket.resume()
  const { code, reason } = await within(slow.closed, 10_000, 'the slow consumer closed')
  t.equal(code, 4009)
  const resumeId = /^slow_consumer:(.+)$/.exec(reason)?.[1]
  t.equal(resumeId, slow.ids.at(-1), 'the reason names the last event it was sent')
  t.ok(slow.ids.length < published.length / 2, `cut off early (${slow.ids.length} of ${published.length} events)`)
  t.same(slow.ids, published.slice(0, slow.ids.length), 'what it got was in order, without a gap: it resumes after the id')
})
