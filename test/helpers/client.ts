import WebSocket, { type ClientOptions } from 'ws'
import type { Teardown } from '../../harness/teardown.js'
import type { GatewayEvent } from '../../src/events.js'

export interface Frame {
  type: string
  id?: string | number
  payload: Record<string, unknown>
}

/** An `event` frame's payload is the event itself. */
export type EventPayload = GatewayEvent

const DEFAULT_TIMEOUT_MS = 5000

/**
 * A real `ws` client that queues every frame from the moment it is created, so no frame is
 * missed between connecting and the first wait.
 */
export class TestClient {
  readonly frames: Frame[] = []
  readonly closed: Promise<{ code: number, reason: string }>
  private waiters: Array<() => void> = []
  private nextId = 1

  constructor (readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame)
      for (const wake of this.waiters.splice(0)) wake()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const wake of this.waiters.splice(0)) wake()
      })
    })
    socket.on('error', () => {})
  }

  /** Removes and returns the first queued frame that matches, waiting for it if needed. */
  async next (match: string | ((frame: Frame) => boolean) = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const test = typeof match === 'string' ? (f: Frame) => f.type === match : match
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.frames.findIndex(test)
      if (index !== -1) return this.frames.splice(index, 1)[0] as Frame
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${String(match)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${typeof match === 'string' ? match : 'frame'}; queued: ${JSON.stringify(this.frames.slice(0, 5))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Waits for `count` event frames and returns their payloads in arrival order. */
  async events (count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<EventPayload[]> {
    const out: EventPayload[] = []
    while (out.length < count) out.push((await this.next('event', timeoutMs)).payload as unknown as EventPayload)
    return out
  }

  /** Sends a request with a fresh id and resolves with the reply that echoes it. */
  async request (type: string, payload?: Record<string, unknown>): Promise<Frame> {
    const id = `r${this.nextId++}`
    this.send({ type, id, ...(payload === undefined ? {} : { payload }) })
    return await this.next((f) => f.id === id)
  }

  async subscribe (...eventTypes: string[]): Promise<Frame> {
    return await this.request('subscribe', { eventTypes })
  }

  send (frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  close (): void {
    this.socket.close()
  }
}

/** Connects and resolves once the server's first frame (or the close) has arrived. */
export async function connect (t: Teardown, url: string, options: ClientOptions = {}): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, options))
  t.teardown(() => { client.socket.terminate() })
  await new Promise((resolve) => {
    client.socket.once('message', resolve)
    client.socket.once('close', resolve)
  })
  return client
}

/** Connects with a bearer token and waits for the `connected` frame. */
export async function connectAs (t: Teardown, url: string, bearer: string): Promise<TestClient> {
  const client = await connect(t, url, { headers: { authorization: `Bearer ${bearer}` } })
  await client.next('connected')
  return client
}

export interface RefusedUpgrade {
  status: number
  retryAfter: string | undefined
  /** The response body, as text. */
  body: string
}

/** The HTTP answer to a WebSocket upgrade refused before any socket exists; rejects if it is accepted. */
export async function refusedUpgrade (url: string, options: ClientOptions = {}): Promise<RefusedUpgrade> {
  const socket = new WebSocket(url, options)
  socket.on('error', () => {})
  return await new Promise((resolve, reject) => {
    socket.on('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => { body += chunk.toString() })
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], body })
      })
    })
    socket.on('open', () => {
      socket.terminate()
      reject(new Error('the upgrade was accepted'))
    })
  })
}
