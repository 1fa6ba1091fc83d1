import type { RequestType } from '../wire/frames.js'
import { encodeRequest, type ServerFrame } from './frames.js'
import type { TokenRefresher } from './token-refresh.js'
import type { WebSocketLike } from './types.js'
import type { Watchdog } from './watchdog.js'

type Reply = (frame: ServerFrame | undefined) => void

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
  resumeTimer: ReturnType<typeof setTimeout> | undefined
  private readonly replies = new Map<string, Reply>()
  private nextId = 0
  private released = false

  constructor (readonly socket: WebSocketLike, watch: (link: Link) => Watchdog, refresh: (link: Link) => TokenRefresher) {
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
      this.socket.send(encodeRequest(type, id, payload))
    })
  }

  /** Hands a reply to its request; false for a frame that answers none. */
  answer (frame: ServerFrame): boolean {
    const reply = frame.id === undefined ? undefined : this.replies.get(frame.id)
    if (reply === undefined) return false
    this.replies.delete(frame.id as string)
    reply(frame)
    return true
  }

  /** Stops its timers and resolves its unanswered requests with nothing. */
  release (): void {
    this.released = true
    this.watchdog.stop()
    this.refresher.stop()
    clearTimeout(this.resumeTimer)
    for (const reply of this.replies.values()) reply(undefined)
    this.replies.clear()
  }

  /** Closes the socket; a dead peer (`terminate` where the WebSocket has it) is not waited for. */
  close (dead = false): void {
    if (dead && this.socket.terminate !== undefined) this.socket.terminate()
    else if (this.socket.readyState <= OPEN) this.socket.close(NORMAL_CLOSURE)
  }
}
