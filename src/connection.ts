import type { Log } from './logging.js'
import type { Identity } from './identity.js'
import { writePreparedFrame } from './private-apis.js'
import type { EventFrame } from './protocol.js'
import type { Stream } from './wire/streams.js'

/** The part of a `ws` WebSocket the core uses, so the core does not depend on a server. */
export interface Socket {
  readonly readyState: number
  /** Bytes queued for the client and not yet handed to the kernel: what a slow reader costs us. */
  readonly bufferedAmount: number
  send: (data: string | Buffer, options: { binary: boolean }) => void
  close: (code: number, reason: string) => void
  terminate: () => void
  ping: () => void
}

/** `ws` ready states (the WebSocket standard's). */
export const ReadyState = { OPEN: 1, CLOSING: 2, CLOSED: 3 } as const

const OPEN = ReadyState.OPEN
const TEXT = { binary: false }

/**
 * How long a closed socket may take to answer our close frame before it is terminated. A client
 * that reads answers within a round trip; one that does not (asleep, gone, or flooding us) would
 * otherwise hold the socket for ws's close timeout, 30 s.
 */
export const CLOSE_GRACE_MS = 2000

/**
 * Sends the close frame, then terminates the socket if it has not closed after CLOSE_GRACE_MS.
 * While our close frame still waits behind bytes the client has not read (a slow consumer cut
 * off 4009), terminating would drop it and the resume id it carries: the grace starts again,
 * and ws's own close timeout bounds the wait.
 */
export function closeSocket (socket: Socket, code: number, reason: string): void {
  const wasOpen = socket.readyState === OPEN
  socket.close(code, reason)
  if (wasOpen) setTimeout(endClosing, CLOSE_GRACE_MS, socket).unref()
}

/** The grace timer's one callback, given the socket as its argument: no closure per socket. */
function endClosing (socket: Socket): void {
  if (socket.readyState === ReadyState.CLOSED) return
  if (socket.bufferedAmount > 0) setTimeout(endClosing, CLOSE_GRACE_MS, socket).unref()
  else socket.terminate()
}

/** How a connection came to be in a room: its token's `groups` claim, or a `join`. */
export type RoomEntry = 'group' | 'joined'

const NO_ROOMS: ReadonlyMap<string, RoomEntry> = new Map()

export class Connection {
  readonly patterns = new Set<string>()
  /** Made with the first room: most connections are in none, and an empty Map weighs ~100 bytes. */
  private joined: Map<string, RoomEntry> | undefined
  /** Cleared at each heartbeat, set again by the pong. */
  alive = true
  /** The delivery sequence this connection last received, so overlapping patterns deliver once. */
  lastDelivery = 0
  /** Live event frames held back while a resume replays history; undefined otherwise. */
  held: Array<{ id: string, frame: EventFrame }> | undefined
  /**
   * After a resume, per partition, the newest id the client already has (its `since`, or the
   * last event the history held): this instance's bus may lag behind it. A partition's entry
   * goes with its first newer event.
   */
  floor: Map<string, string> | undefined
  /** The partitions of the event log this connection may receive events from. */
  reads: readonly string[] = []
  /** Until the bus has a position in each partition read: what a `subscribe` waits for. */
  reading: Promise<void> | undefined
  /** The id of the last event written to the socket: where the client resumes if it is cut off. */
  lastEventId = ''
  /** Set by the cleanup sweep that finds the socket closing; the next sweep terminates it. */
  closingSwept = false

  constructor (
    readonly id: string,
    readonly socket: Socket,
    /** Replaced by a successful `reauthenticate`, always for the same user. */
    public identity: Identity,
    readonly stream: Stream,
    /** The logger `log` derives from: a connection holds no logger of its own. */
    private readonly parentLog: Log
  ) {}

  /**
   * A logger bound to this connection, made for the line about to be written: a few lines in a
   * connection's life, against a logger held by every idle connection (about 1 KB each).
   */
  get log (): Log {
    return this.parentLog.child({ connectionId: this.id, userId: this.identity.userId })
  }

  /** The rooms the connection is in, and how it came to be in each. */
  get rooms (): ReadonlyMap<string, RoomEntry> {
    return this.joined ?? NO_ROOMS
  }

  setRoom (room: string, by: RoomEntry): void {
    (this.joined ??= new Map()).set(room, by)
  }

  deleteRoom (room: string): void {
    this.joined?.delete(room)
    if (this.joined?.size === 0) this.joined = undefined
  }

  get open (): boolean {
    return this.socket.readyState === OPEN
  }

  send (data: string | Buffer): void {
    if (this.socket.readyState === OPEN) this.socket.send(data, TEXT)
  }

  /** Sends an event frame built once for all recipients: its prepared bytes where ws allows it. */
  sendFrame (frame: EventFrame): void {
    if (this.socket.readyState !== OPEN) return
    if (!writePreparedFrame(this.socket, frame)) this.socket.send(frame.text, TEXT)
  }

  /** Closes the socket, terminated after CLOSE_GRACE_MS if the client does not answer. */
  close (code: number, reason: string): void {
    closeSocket(this.socket, code, reason)
  }
}
