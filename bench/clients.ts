import WebSocket from 'ws'
import { benchToken } from './auth.js'
import { scanEvent } from './wire.js'

export type ContenderName = 'eventgate' | 'socketio' | 'bare'

/** Who a connection is and what it subscribes to: one user's own events, or everything for an admin. */
export interface ClientSpec {
  user: string
  admin: boolean
  /** The namespace subscribed to (`bench` → eventgate's `bench.*`). */
  topic: string
}

/** Called for every event frame a client receives, with the client's index and the event's `seq` and `t`. */
export type EventSink = (client: number, seq: number, tMicros: number) => void

/**
 * How each contender is spoken to. The load generator uses the same `ws` client for all three so
 * the receiving side costs the same; Socket.IO's Engine.IO v4 framing is simple enough to speak
 * directly (`0` open, `40` connect with the token, `42[...]` events, `2`/`3` ping/pong).
 */
interface Dialect {
  path: (spec: ClientSpec) => string
  headers: (token: string) => Record<string, string>
  /** What the client sends once the socket is open, if the server does not speak first. */
  opened?: (ws: WebSocket, spec: ClientSpec) => void
  /** Handles one handshake frame; returns true once the subscription is confirmed. */
  handshake: (ws: WebSocket, text: string, spec: ClientSpec, token: string) => boolean
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

const DIALECTS: Record<ContenderName, Dialect> = {
  eventgate: {
    path: (spec) => spec.admin ? '/ws/admin' : '/ws/events',
    headers: bearer,
    handshake (ws, text, spec) {
      const frame = JSON.parse(text) as { type: string, payload?: unknown }
      if (frame.type === 'connected') {
        ws.send(JSON.stringify({ type: 'subscribe', id: 's', payload: { eventTypes: [spec.admin ? '*' : `${spec.topic}.*`] } }))
        return false
      }
      if (frame.type === 'subscribed') return true
      throw new Error(`eventgate refused: ${text}`)
    }
  },
  socketio: {
    path: () => '/socket.io/?EIO=4&transport=websocket',
    headers: () => ({}),
    handshake (ws, text, spec, token) {
      if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`)
      else if (text.startsWith('40')) ws.send(`420${JSON.stringify(['subscribe', spec.topic])}`)
      else if (text.startsWith('430')) return true
      else if (text === '2') ws.send('3')
      else throw new Error(`Socket.IO refused: ${text}`)
      return false
    }
  },
  bare: {
    path: () => '/',
    headers: bearer,
    opened: (ws, spec) => { ws.send(JSON.stringify({ type: 'subscribe', topic: spec.topic })) },
    handshake (_ws, text) {
      if (text !== '{"type":"subscribed"}') throw new Error(`bare refused: ${text}`)
      return true
    }
  }
}

/** Loopback source addresses in turn: each has its own range of ephemeral ports. */
const SOURCE_ADDRESSES = 8
const PING = Buffer.from('2')
const PONG = '3'

/** The load generator's connections to one contender's instances. */
export class Fleet {
  /** By client index; a client closed on purpose leaves its index empty, never reused. */
  private readonly sockets: Array<WebSocket | undefined> = []
  /** Close codes of connections the servers closed while the fleet was in use. */
  readonly unexpectedCloses: number[] = []
  private closing = false
  private sink: EventSink = () => {}
  private readonly scratch = { seq: 0, t: 0 }

  constructor (private readonly contender: ContenderName, private readonly wsBases: readonly string[]) {}

  /** Clients opened so far, closed ones included: the index the next one gets. */
  get length (): number {
    return this.sockets.length
  }

  /** Where event frames go from now on. */
  onEvent (sink: EventSink): void {
    this.sink = sink
  }

  /**
   * Opens, authenticates and subscribes one connection per spec, `concurrency` handshakes at a
   * time, spread over the instances in turn; resolves once every subscription is confirmed. The
   * clients get the next indices, in the order of `specs`.
   */
  async open (specs: readonly ClientSpec[], concurrency: number): Promise<void> {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < specs.length) {
        const spec = specs[next++] as ClientSpec
        await this.openOne(spec)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker))
  }

  /** Closes the clients `from`…`to - 1` still open; the servers' closes of them are expected. */
  closeRange (from: number, to: number): number {
    let closed = 0
    for (let i = from; i < Math.min(to, this.sockets.length); i++) {
      const ws = this.sockets[i]
      if (ws === undefined) continue
      this.sockets[i] = undefined
      ws.terminate()
      closed++
    }
    return closed
  }

  close (): void {
    this.closing = true
    for (const ws of this.sockets) ws?.terminate()
  }

  private async openOne (spec: ClientSpec): Promise<void> {
    const index = this.sockets.length
    const dialect = DIALECTS[this.contender]
    const token = benchToken(spec.user, spec.admin ? ['admin'] : [])
    const base = this.wsBases[index % this.wsBases.length] as string
    const ws = new WebSocket(base + dialect.path(spec), {
      headers: dialect.headers(token),
      localAddress: `127.0.0.${2 + index % SOURCE_ADDRESSES}`,
      perMessageDeflate: false,
      skipUTF8Validation: true
    })
    this.sockets.push(ws)
    const pings = this.contender === 'socketio'
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        ws.terminate()
        reject(err)
      }
      const handshake = (data: Buffer): void => {
        try {
          if (!dialect.handshake(ws, data.toString(), spec, token)) return
        } catch (err) {
          fail(err as Error)
          return
        }
        ws.off('message', handshake)
        ws.on('message', (frame: Buffer) => {
          if (scanEvent(frame, this.scratch)) this.sink(index, this.scratch.seq, this.scratch.t)
          else if (pings && frame.equals(PING)) ws.send(PONG)
        })
        resolve()
      }
      ws.on('message', handshake)
      const { opened } = dialect
      if (opened !== undefined) ws.once('open', () => { opened(ws, spec) })
      ws.once('error', fail)
      ws.once('close', (code) => { fail(new Error(`closed ${code} during the handshake`)) })
    })
    ws.removeAllListeners('error')
    ws.removeAllListeners('close')
    ws.on('error', () => {})
    ws.on('close', (code) => {
      if (!this.closing && this.sockets[index] === ws) this.unexpectedCloses.push(code)
    })
  }
}
