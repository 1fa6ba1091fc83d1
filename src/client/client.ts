import { ABNORMAL_CLOSURE } from '../wire/close-codes.js'
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js'
import { closePolicy } from './close-policy.js'
import { Emitter } from './emitter.js'
import { type Endpoint, endpointOf, isRoutineFailure, socketUrl } from './endpoint.js'
import { EventgateError } from './errors.js'
import { readConnected, readEvent, readTime, type ServerFrame } from './frames.js'
import { type FrameSink, Link } from './link.js'
import { PatternKeeper } from './pattern-keeper.js'
import { handlePush, type PushTarget } from './pushes.js'
import { RoomKeeper } from './rooms.js'
import { FrameSigning } from './signing.js'
import { StreamPosition } from './stream-position.js'
import { messageOf, reauthenticateOn, TokenRefresher } from './token-refresh.js'
import type {
  ClientEvents, ClientOptions, ClientState, CloseInfo, EventgateClient, EventHandler, Logger, PublishOptions, RoomGrant, RoomMembership, Subscription,
  WebSocketConstructor
} from './types.js'
import { Waiters } from './waiters.js'
import { Watchdog } from './watchdog.js'

type Timer = ReturnType<typeof setTimeout>

/** Used until a `connected` frame announces the gateway's WEBSOCKET_HEARTBEAT_INTERVAL. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000
const DEFAULT_HEARTBEAT_GRACE_MS = 10_000

export class Client implements EventgateClient, PushTarget {
  private readonly emitter = new Emitter<ClientEvents>((err, name) => { this.listenerThrew(err, name) })
  private readonly endpoint: Endpoint
  private readonly WebSocket: WebSocketConstructor
  private readonly backoff: BackoffOptions
  private readonly graceMs: number
  private readonly logger: Logger | undefined
  private current: ClientState = 'connecting'
  private everOpen = false
  private link: Link | undefined
  private attempt = 0
  private retryTimer: Timer | undefined
  private readonly patterns: PatternKeeper
  /** Bumped when a connect under way must be abandoned (by `close()`). */
  private generation = 0
  private intervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS
  private readonly stream = new StreamPosition()
  private closing: Promise<void> = Promise.resolve()
  private readonly signing: FrameSigning | undefined
  /** Callers waiting for a socket whose rooms and patterns are back. */
  private readonly resumedLinks = new Waiters<Link>()
  readonly roomKeeper: RoomKeeper

  constructor (private readonly options: ClientOptions) {
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (WebSocketClass === undefined) throw new TypeError('no global WebSocket: pass the WebSocket option (in Node, the ws package\'s class)')
    this.WebSocket = WebSocketClass
    this.endpoint = endpointOf(options.url, options.stream ?? 'events')
    this.backoff = { ...DEFAULT_BACKOFF, ...options.reconnect }
    const host = {
      current: () => this.link?.ready === true ? this.link : undefined,
      closed: () => this.current === 'closed',
      backoff: this.backoff,
      report: (err: EventgateError) => { this.report(err) },
      positioned: (position: unknown) => { this.stream.place(position) }
    }
    this.patterns = new PatternKeeper({
      ...host,
      truncated: (info) => {
        this.stream.clear()
        this.emitter.emit('truncated', info)
      },
      resumed: (info) => { this.emitter.emit('resumed', info) }
    })
    this.roomKeeper = new RoomKeeper({ ...host, ready: async () => await this.resumedLink(), changed: (change) => { this.emitter.emit('rooms', change) } })
    this.graceMs = options.heartbeatGraceMs ?? DEFAULT_HEARTBEAT_GRACE_MS
    this.logger = options.logger
    this.signing = options.signingSecret === undefined ? undefined : new FrameSigning(options.signingSecret)
    void this.connect()
  }

  get state (): ClientState {
    return this.current
  }

  /** The id of the last event delivered, whatever its partition. */
  get lastEventId (): string | undefined {
    return this.stream.lastId
  }

  /** The position token the next reconnect resumes from (`since`). */
  get position (): string | undefined {
    return this.stream.token
  }

  get groups (): readonly string[] {
    return this.roomKeeper.groups
  }

  on<K extends keyof ClientEvents> (name: K, listener: ClientEvents[K]): () => void {
    return this.emitter.on(name, listener)
  }

  off<K extends keyof ClientEvents> (name: K, listener: ClientEvents[K]): void {
    this.emitter.off(name, listener)
  }

  /**
   * Resolves once the gateway has accepted the pattern (at once when it already had); rejects
   * with the gateway's code (INVALID_PATTERN, FORBIDDEN, …). Kept across reconnects.
   */
  async subscribe<Data extends Record<string, unknown> = Record<string, unknown>> (pattern: string, handler: EventHandler<Data>): Promise<Subscription> {
    return await this.patterns.subscribe(pattern, handler)
  }

  /** Removes `handler` (or every handler) from `pattern`; the last one out unsubscribes it. */
  async unsubscribe<Data extends Record<string, unknown> = Record<string, unknown>> (pattern: string, handler?: EventHandler<Data>): Promise<void> {
    await this.patterns.unsubscribe(pattern, handler)
  }

  async join (room: string): Promise<RoomMembership> {
    return await this.roomKeeper.join(room)
  }

  async leave (room: string): Promise<void> {
    await this.roomKeeper.leave(room)
  }

  async publish (room: string, type: string, data?: Record<string, unknown>, options?: PublishOptions): Promise<string> {
    return await this.roomKeeper.publish(room, type, data, options)
  }

  async rooms (): Promise<RoomGrant[]> {
    return await this.roomKeeper.list()
  }

  /** Closes the socket for good; resolves once it is closed. */
  async close (): Promise<void> {
    if (this.current !== 'closed') this.shutDown()
    await this.closing
  }

  /** The `connected` frame: the gateway accepted the socket. */
  connected (link: Link, payload: Record<string, unknown>): void {
    link.ready = true
    this.attempt = 0
    this.everOpen = true
    const { heartbeatIntervalMs } = payload
    if (typeof heartbeatIntervalMs === 'number' && heartbeatIntervalMs > 0) this.intervalMs = heartbeatIntervalMs
    link.watchdog.stop()
    link.watchdog = this.watch(link)
    link.refresher.deadline(readTime(payload.expiresAt) ?? null)
    this.roomKeeper.connected(payload.groups)
    this.setState('open')
    this.emitter.emit('connected', readConnected(payload))
    void this.resume(link)
  }

  /**
   * An `event` frame. An id at or below the last one delivered from its partition is a replay
   * the application has seen (a resume overlaps what arrived before the socket dropped): dropped.
   */
  deliver (payload: Record<string, unknown>): void {
    const event = readEvent(payload)
    if (event === undefined) {
      this.report(new EventgateError('INVALID_FRAME', 'an event frame without a valid id, type, timestamp or data'))
      return
    }
    if (!this.stream.advance(event.id)) return
    this.emitter.emit('event', event)
    this.patterns.dispatch(event, (err) => { this.handlerThrew(err) })
  }

  /** Hands an error to the `error` listeners, or to the logger when there are none. */
  report (err: EventgateError): void {
    if (this.emitter.has('error')) this.emitter.emit('error', err)
    else this.logger?.warn(err.message, { code: err.code })
  }

  private async connect (): Promise<void> {
    const generation = ++this.generation
    let url: string
    try {
      url = await socketUrl(this.endpoint, this.options, this.intervalMs + this.graceMs)
    } catch (err) {
      if (generation !== this.generation) return
      const failure = err instanceof EventgateError ? err : new EventgateError('TOKEN_UNAVAILABLE', messageOf(err), { cause: err })
      if (isRoutineFailure(failure)) this.logger?.debug(failure.message, { status: failure.status })
      else this.report(failure)
      this.retry('backoff')
      return
    }
    if (generation !== this.generation) return
    try {
      this.open(url)
    } catch (err) {
      // A URL or a mixed-content refusal the constructor throws synchronously.
      this.report(new EventgateError('CONNECTION_CLOSED', `cannot open a WebSocket: ${messageOf(err)}`, { cause: err }))
      this.retry('backoff')
    }
  }

  private open (url: string): void {
    const socket = new this.WebSocket(url)
    // Until `connected`, the silence allowed covers the handshake: a stopped instance accepts TCP and answers nothing.
    const link = new Link(socket, (l) => this.watch(l), (l) => this.refresherFor(l), this.signing)
    this.link = link
    const sink: FrameSink = {
      frame: (frame) => { this.receive(link, frame) },
      forged: (frame) => { this.report(new EventgateError('INVALID_SIGNATURE', `a "${frame.type}" frame whose signature does not hold; dropped`)) },
      failed: (err) => { this.report(new EventgateError('HANDLER_FAILED', messageOf(err), { cause: err })) }
    }
    socket.addEventListener('message', (event) => { link.receive(event.data, sink) })
    socket.addEventListener('close', (event) => { this.closed(link, { code: event.code, reason: event.reason }) })
    // The close event that follows says what happened; without a listener `ws` would throw.
    socket.addEventListener('error', () => {})
  }

  private watch (link: Link): Watchdog {
    return new Watchdog(this.intervalMs, this.graceMs, () => { void link.request('ping') }, () => { this.dead(link) })
  }

  private refresherFor (link: Link): TokenRefresher {
    return new TokenRefresher({
      getToken: async () => await this.options.getToken(),
      report: (err) => { this.report(err) },
      reauthenticate: async (token) => await reauthenticateOn(link, token)
    })
  }

  private receive (link: Link, frame: ServerFrame | undefined): void {
    if (this.link !== link) return
    link.watchdog.seen()
    if (frame === undefined) {
      this.report(new EventgateError('INVALID_FRAME', 'a frame that is not a JSON object with a type'))
      return
    }
    if (!link.answer(frame)) handlePush(this, link, frame)
  }

  /**
   * Joins the rooms held before again, then subscribes the patterns held before in one request
   * with `since`, so the gateway replays what the client missed, the rooms' events included,
   * and the seam to live events has no gap. Rooms and patterns new since go after it: their
   * live events must not overtake the replay, or the replay would look old.
   */
  private async resume (link: Link): Promise<void> {
    await this.roomKeeper.rejoin(link)
    if (this.link !== link) return
    await this.patterns.resume(link, this.stream.token)
    if (this.link !== link) return
    link.resumed = true
    this.roomKeeper.joinPending(link)
    this.patterns.subscribePending(link)
    this.resumedLinks.resolve(link)
  }

  private async resumedLink (): Promise<Link> {
    if (this.current === 'closed') throw new EventgateError('CLIENT_CLOSED', 'the client is closed')
    const link = this.link
    return link?.resumed === true ? link : await this.resumedLinks.wait()
  }

  private closed (link: Link, cause: CloseInfo): void {
    if (this.link !== link) return
    this.release(link)
    const policy = closePolicy(cause.code)
    this.logger?.debug('socket closed', { ...cause })
    if (policy.report) {
      this.report(new EventgateError('CONNECTION_CLOSED', `the gateway closed the socket: ${cause.code} ${cause.reason}`.trim(), { closeCode: cause.code, reason: cause.reason }))
    }
    if (policy.retry === 'never') this.shutDown(cause)
    else this.retry(policy.retry, cause)
  }

  /** No traffic for the heartbeat interval and the grace: the peer is gone without a close. */
  private dead (link: Link): void {
    if (this.link !== link) return
    this.logger?.warn('no traffic from the gateway within the heartbeat interval and grace; reconnecting', { silentMs: this.intervalMs + this.graceMs })
    this.release(link)
    link.close(true)
    this.retry('backoff', { code: ABNORMAL_CLOSURE, reason: 'heartbeat_timeout' })
  }

  private release (link: Link): void {
    this.link = undefined
    link.release()
  }

  private retry (mode: 'at-once' | 'backoff', cause?: CloseInfo): void {
    const { maxAttempts } = this.backoff
    if (maxAttempts !== undefined && this.attempt >= maxAttempts) {
      this.report(new EventgateError('RECONNECT_EXHAUSTED', `no connection after ${this.attempt} reconnects`, { closeCode: cause?.code, reason: cause?.reason }))
      this.shutDown(cause)
      return
    }
    const delay = mode === 'at-once' && this.attempt === 0 ? 0 : backoffDelay(this.attempt, this.backoff)
    this.attempt++
    this.setState(this.everOpen ? 'reconnecting' : 'connecting', cause)
    this.emitter.emit('reconnect', { attempt: this.attempt, delayMs: delay, cause })
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.connect()
    }, delay)
  }

  private shutDown (cause?: CloseInfo): void {
    clearTimeout(this.retryTimer)
    this.generation++
    const link = this.link
    if (link !== undefined) {
      this.release(link)
      link.close()
      this.closing = link.settle(this.graceMs)
    }
    this.patterns.abandon()
    this.roomKeeper.abandon()
    this.resumedLinks.reject(new EventgateError('CLIENT_CLOSED', 'the client is closed'))
    this.setState('closed', cause)
  }

  private setState (state: ClientState, cause?: CloseInfo): void {
    if (state === this.current) return
    this.current = state
    this.logger?.debug(`state ${state}`, cause === undefined ? undefined : { ...cause })
    this.emitter.emit('state', state, cause)
  }

  private handlerThrew (err: unknown): void {
    this.report(new EventgateError('HANDLER_FAILED', `a subscription handler threw: ${messageOf(err)}`, { cause: err }))
  }

  private listenerThrew (err: unknown, name: keyof ClientEvents): void {
    if (name === 'error') this.logger?.warn(`an error listener threw: ${messageOf(err)}`)
    else this.handlerThrew(err)
  }
}
