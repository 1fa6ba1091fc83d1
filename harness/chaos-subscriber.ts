import WebSocket from 'ws'
import { compareIds } from '../src/wire/event-id.js'

export interface SubscriberOptions {
  /** The gateways' ws:// base URLs, read at every connection: a load balancer's view. */
  targets: () => readonly string[]
  /** Index into `targets` of the first connection. */
  home: number
  userId: string
  bearer: string
  eventTypes: string[]
}

interface Frame { type: string, payload?: Record<string, unknown> }

/** Reconnects back off from this, doubling, up to a second. */
const RECONNECT_MIN_MS = 25
const RECONNECT_MAX_MS = 1000
/** A `subscribe` refused HISTORY_UNAVAILABLE is asked again after this (docs/protocol.md: retry it). */
const HISTORY_RETRY_MS = 100
/** An upgrade that gets no answer in this time is given up and tried elsewhere, as a browser would. */
const HANDSHAKE_TIMEOUT_MS = 5000

/**
 * A dashboard that keeps its place: it remembers the last event id it processed and, whenever
 * its socket closes (a shutdown, a killed instance), connects to the next instance and
 * subscribes again with `since` = that id. It checks what arrives as it arrives: every id once,
 * each greater than the one before.
 */
export class ResumingSubscriber {
  /** Every event id received, each once, with the publisher's sequence number it carried. */
  readonly seen = new Map<string, number>()
  lastId: string | undefined
  readonly counts = { delivered: 0, duplicates: 0, outOfOrder: 0, unentitled: 0, connections: 0, resumes: 0, replayed: 0, truncated: 0, historyRetries: 0 }
  /** Close codes of the sockets the server (or its death) closed, and error codes received. */
  readonly closes: Record<string, number> = {}
  readonly errors: Record<string, number> = {}
  /** Subscribed on a live socket; false from its close until the next `subscribed`. */
  live = false
  private socket: WebSocket | undefined
  private target: number
  private failures = 0
  private stopped = false
  private retryTimer: NodeJS.Timeout | undefined

  constructor (private readonly options: SubscriberOptions) {
    this.target = options.home
  }

  get userId (): string {
    return this.options.userId
  }

  /** Where the current socket goes (or went). */
  get url (): string {
    const targets = this.options.targets()
    return targets[this.target % targets.length] ?? ''
  }

  /** Connects; `live` turns true once the first subscription is confirmed. */
  open (): void {
    this.connect()
  }

  close (): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.socket?.terminate()
  }

  private connect (): void {
    if (this.stopped) return
    const socket = new WebSocket(`${this.url}/ws/events`, { headers: { authorization: `Bearer ${this.options.bearer}` }, handshakeTimeout: HANDSHAKE_TIMEOUT_MS })
    this.socket = socket
    socket.on('message', (data) => { this.receive(socket, JSON.parse(data.toString()) as Frame) })
    socket.on('error', () => {}) // the close that follows says all
    socket.on('close', (code) => {
      this.live = false
      if (this.stopped) return
      this.closes[code] = (this.closes[code] ?? 0) + 1
      // Another instance, as a load balancer would pick once this one stopped answering.
      this.target++
      const wait = Math.min(RECONNECT_MIN_MS * 2 ** this.failures++, RECONNECT_MAX_MS)
      this.retryTimer = setTimeout(() => this.connect(), wait)
    })
  }

  private receive (socket: WebSocket, frame: Frame): void {
    switch (frame.type) {
      case 'connected':
        this.counts.connections++
        this.subscribe(socket)
        return
      case 'subscribed':
        this.subscribed(frame.payload ?? {})
        return
      case 'event': {
        const { id, userId, data } = frame.payload as { id: string, userId?: string, data?: { seq?: unknown } }
        if (userId !== undefined && userId !== this.options.userId) this.counts.unentitled++
        this.record(id, typeof data?.seq === 'number' ? data.seq : -1)
        return
      }
      case 'error': {
        const code = String(frame.payload?.code)
        this.errors[code] = (this.errors[code] ?? 0) + 1
        if (code !== 'HISTORY_UNAVAILABLE') return
        this.counts.historyRetries++
        this.retryTimer = setTimeout(() => this.subscribe(socket), HISTORY_RETRY_MS)
      }
    }
  }

  private subscribe (socket: WebSocket): void {
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN) return
    const since = this.lastId === undefined ? {} : { since: this.lastId }
    socket.send(JSON.stringify({ type: 'subscribe', id: 's', payload: { eventTypes: this.options.eventTypes, ...since } }))
  }

  private subscribed (payload: Record<string, unknown>): void {
    this.live = true
    this.failures = 0
    if (typeof payload.replayed !== 'number') return
    this.counts.resumes++
    this.counts.replayed += payload.replayed
    if (payload.truncated === true) this.counts.truncated++
  }

  private record (id: string, seq: number): void {
    this.counts.delivered++
    if (this.seen.has(id)) {
      this.counts.duplicates++
      return
    }
    this.seen.set(id, seq)
    if (this.lastId !== undefined && compareIds(id, this.lastId) < 0) this.counts.outOfOrder++
    else this.lastId = id
  }
}
