import type { RequestType } from '../wire/frames.js'
import { encodeRequest, parseServerFrame, type ServerFrame } from './frames.js'
import type { FrameSigning } from './signing.js'
import type { TokenRefresher } from './token-refresh.js'
import type { WebSocketLike } from './types.js'
import type { Watchdog } from './watchdog.js'

type Reply = (frame: ServerFrame | undefined) => void

/** Where a link hands the frames it receives. */
export interface FrameSink {
  frame: (frame: ServerFrame | undefined) => void
  /** A frame whose signature does not hold: dropped, and reported. */
  forged: (frame: ServerFrame) => void
  /** Handling a frame threw; the frames after it are still handed on. */
  failed: (err: unknown) => void
}

const OPEN = 1
const NORMAL_CLOSURE = 1000

/** One socket's life, from its creation to its release: its requests, watchdog and token refresh. */
export class Link {
  readonly closed: Promise<void>
  watchdog: Watchdog
  readonly refresher: TokenRefresher
  /** The gateway sent `connected`. */
  ready = false
  /** The patterns held before are subscribed again: new ones may follow. */
  resumed = false
  private readonly replies = new Map<string, Reply>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private nextId = 0
  private released = false
  /**
   * Signing and verifying are asynchronous (WebCrypto): requests go out, and frames are handed
   * on, through these chains, so none overtakes one that came before it.
   */
  private outbound: Promise<void> = Promise.resolve()
  private inbound: Promise<void> = Promise.resolve()

  constructor (readonly socket: WebSocketLike, watch: (link: Link) => Watchdog, refresh: (link: Link) => TokenRefresher, private readonly signing?: FrameSigning) {
    this.closed = new Promise((resolve) => { socket.addEventListener('close', () => { resolve() }) })
    this.watchdog = watch(this)
    this.refresher = refresh(this)
  }

  /** Resolves with the reply, or undefined when the socket is not open or is let go first. */
  async request (type: RequestType, payload?: Record<string, unknown>): Promise<ServerFrame | undefined> {
    if (this.released || this.socket.readyState !== OPEN) return undefined
    const id = `c${++this.nextId}`
    return await new Promise((resolve) => {
      this.replies.set(id, resolve)
      this.send(type, id, payload)
    })
  }

  /**
   * Waits `ms` before a retry on this socket. Once the link is released it never resolves: the
   * retry dies with its socket, and the next one starts over.
   */
  async pause (ms: number): Promise<void> {
    if (this.released) return await new Promise(() => {})
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        resolve()
      }, ms)
      this.timers.add(timer)
    })
  }

  /**
   * Hands each message's frame to `sink.frame` in arrival order (undefined for one that is not
   * a frame). With signing, a frame whose signature does not hold goes to `sink.forged` instead.
   */
  receive (data: unknown, sink: FrameSink): void {
    const frame = parseServerFrame(data)
    const { signing } = this
    if (signing === undefined) {
      sink.frame(frame)
      return
    }
    const holds = frame === undefined ? Promise.resolve(true) : signing.holds(frame)
    this.inbound = this.inbound.then(async () => {
      if (await holds || frame === undefined) sink.frame(frame)
      else sink.forged(frame)
    }).catch(sink.failed)
  }

  /** Hands a reply to its request; false for a frame that answers none. */
  answer (frame: ServerFrame): boolean {
    const reply = frame.id === undefined ? undefined : this.replies.get(frame.id)
    if (reply === undefined) return false
    this.replies.delete(frame.id as string)
    reply(frame)
    return true
  }

  private send (type: RequestType, id: string, payload: Record<string, unknown> | undefined): void {
    if (this.signing === undefined) {
      this.socket.send(encodeRequest(type, id, payload))
      return
    }
    const sealed = this.signing.seal(type, id, payload)
    this.outbound = this.outbound.then(async () => {
      const text = await sealed
      if (this.socket.readyState === OPEN) this.socket.send(text)
    }).catch(() => {
      // Signing with an imported key does not fail; if it ever did, the request's reply never
      // comes and it is answered as the socket's unanswered requests are, at release.
    })
  }

  /** Stops its timers and resolves its unanswered requests with nothing. */
  release (): void {
    this.released = true
    this.watchdog.stop()
    this.refresher.stop()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const reply of this.replies.values()) reply(undefined)
    this.replies.clear()
  }

  /** Waits for the close handshake, at most `graceMs`; a peer that never answers is dropped. */
  async settle (graceMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.closed, new Promise((resolve) => { timer = setTimeout(resolve, graceMs) })])
    clearTimeout(timer)
    this.socket.terminate?.()
  }

  /** Closes the socket; a dead peer (`terminate` where the WebSocket has it) is not waited for. */
  close (dead = false): void {
    if (dead && this.socket.terminate !== undefined) this.socket.terminate()
    else if (this.socket.readyState <= OPEN) this.socket.close(NORMAL_CLOSURE)
  }
}
