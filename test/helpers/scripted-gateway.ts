import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import { until } from '../../harness/ports.js'
import type { Teardown } from '../../harness/teardown.js'

/** A request the client sent: `{type, id, payload}`. */
export interface ScriptedRequest {
  type: string
  id: string
  payload: Record<string, unknown>
}

/**
 * The gateway's side of one socket, played by the test frame by frame: it sends what the test
 * says and records what the client asks, so a test can set up what today's gateway never sends
 * (ids of several partitions, position tokens).
 */
export class ScriptedSocket {
  readonly requests: ScriptedRequest[] = []
  private read = 0

  constructor (private readonly socket: WebSocket) {
    socket.on('message', (data) => { this.requests.push(JSON.parse(String(data)) as ScriptedRequest) })
  }

  /** Accepts the socket as the gateway does, with no token deadline. */
  connected (): void {
    this.send({ type: 'connected', payload: { connectionId: 'c', serverId: 's', expiresAt: null, heartbeatIntervalMs: 60_000 } })
  }

  /** The next request not yet taken, which must be of `type`. */
  async next (type: string): Promise<ScriptedRequest> {
    await until(() => this.requests.length > this.read, 5000, `a ${type} request`)
    const request = this.requests[this.read++] as ScriptedRequest
    if (request.type !== type) throw new Error(`expected a ${type} request, got ${JSON.stringify(request)}`)
    return request
  }

  reply (request: ScriptedRequest, type: string, payload: Record<string, unknown>): void {
    this.send({ type, id: request.id, payload })
  }

  /** Answers the next `subscribe` with the patterns it asked for and `extra` (position, truncated). */
  async subscribed (extra: Record<string, unknown> = {}): Promise<ScriptedRequest> {
    const request = await this.next('subscribe')
    this.reply(request, 'subscribed', { eventTypes: request.payload.eventTypes, ...extra })
    return request
  }

  event (id: string, type = 'orders.created'): void {
    this.send({ type: 'event', payload: { id, type, timestamp: new Date().toISOString(), data: {} } })
  }

  close (code: number, reason = ''): void {
    this.socket.close(code, reason)
  }

  private send (frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame))
  }
}

/** A WebSocket server on a free loopback port that hands every socket to the test to play. */
export class ScriptedGateway {
  private readonly accepted: ScriptedSocket[] = []

  private constructor (private readonly server: WebSocketServer) {
    server.on('connection', (socket) => { this.accepted.push(new ScriptedSocket(socket)) })
  }

  static async start (t: Teardown): Promise<ScriptedGateway> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    t.teardown(async () => {
      for (const socket of server.clients) socket.terminate()
      await new Promise((resolve) => server.close(resolve))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    return new ScriptedGateway(server)
  }

  /** The base URL a client is given. */
  get url (): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** The `n`-th socket opened (from 0), once the client has opened it. */
  async socket (n: number): Promise<ScriptedSocket> {
    await until(() => this.accepted.length > n, 5000, `socket ${n}`)
    return this.accepted[n] as ScriptedSocket
  }
}
