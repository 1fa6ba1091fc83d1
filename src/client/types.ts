import type { RoomRole } from '../wire/rooms.js'
import type { Stream } from '../wire/streams.js'
import type { BackoffOptions } from './backoff.js'
import type { EventgateError } from './errors.js'

/** An event as the gateway delivers it. `data` is what the publisher sent. */
export interface GatewayEvent<Data extends Record<string, unknown> = Record<string, unknown>> {
  /**
   * `<milliseconds>-<sequence>`, after its partition (`p3:…`, `b:…`, `a:…`) when the gateway
   * runs several: a later event of a partition has a greater id, on every instance. Ids of two
   * partitions are not ordered.
   */
  id: string
  /** Dot-separated, `authentication.login.success`. */
  type: string
  /** ISO 8601, set by the gateway when it accepted the event. */
  timestamp: string
  /** The user it is addressed to; absent for a broadcast. */
  userId?: string
  sessionId?: string
  /** The rooms it was published into (docs/rooms.md); absent when it names none. */
  groups?: string[]
  /** The user who published it into a room over the socket. */
  sender?: string
  data: Data
  /** `admin`: one of the gateway's own security events, delivered on `/ws/admin` only. */
  audience?: 'admin'
}

export type EventHandler<Data extends Record<string, unknown> = Record<string, unknown>> = (event: GatewayEvent<Data>) => void

/**
 * `connecting`: the first connection is under way; `open`: the gateway accepted the socket;
 * `reconnecting`: the socket was lost and the client waits or connects again; `closed`: for
 * good, by `close()`, a close code that must not be retried, or `maxAttempts`.
 */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Why a socket closed, passed along with the state it led to. */
export interface CloseInfo {
  code: number
  reason: string
}

/** A reconnect is scheduled: which attempt, the wait before it, and the close that caused it. */
export interface ReconnectInfo {
  attempt: number
  delayMs: number
  cause: CloseInfo | undefined
}

/** The gateway answered a resume with `truncated: true`: events after `since` may be lost. */
export interface TruncatedInfo {
  /** The position the resume sent: see `EventgateClient.position`. */
  since: string
  patterns: string[]
}

/** The gateway accepted a socket: who it took the token for, which instance, until when. */
export interface ConnectedInfo {
  serverId: string
  connectionId: string
  userId: string
  /** The token's `exp` as ISO 8601; undefined for a token without one. */
  expiresAt: string | undefined
  groups: string[]
}

/** A reconnect resubscribed from `since`: how many events the gateway replayed before the live ones. */
export interface ResumedInfo {
  since: string
  replayed: number
  truncated: boolean
}

/** What `subscribe` resolves with. */
export interface Subscription {
  pattern: string
  /** Removes this handler; the pattern is unsubscribed once no handler is left on it. */
  unsubscribe: () => Promise<void>
}

/** What `join` resolves with: the room and the role the token grants there. */
export interface RoomMembership {
  room: string
  role: RoomRole
}

/** A room the token grants, from `rooms()`: `joined` when this connection is in it. */
export interface RoomGrant extends RoomMembership {
  joined: boolean
}

export interface PublishOptions {
  /** A repeat of the same key is answered with the first event's id, not published twice. */
  idempotencyKey?: string
}

/**
 * The rooms changed without the application asking: a reauthentication entered a new group
 * (`joined`), took a room's grant away (`left`, reason `revoked`), or a room joined before a
 * reconnect was refused on the new socket (`left`, the gateway's code as reason).
 */
export interface RoomChange {
  room: string
  action: 'joined' | 'left'
  role?: RoomRole
  reason?: string
}

/** What `createClient` returns. */
export interface EventgateClient {
  readonly state: ClientState
  /** The id of the last event delivered, whatever its partition. */
  readonly lastEventId: string | undefined
  /**
   * Where the next reconnect resumes (its `since`): for each partition the client reads, the id
   * of the last event delivered from it, or, before one, the `position` of a `subscribed` reply;
   * ids joined by commas (`p3:1732380000000-4,b:1732380000012-0`). With a gateway of one
   * partition it is one id. Undefined until the first reply or event.
   */
  readonly position: string | undefined
  /**
   * Resolves once the gateway has accepted the pattern (at once when it already had); rejects
   * with the gateway's code (INVALID_PATTERN, FORBIDDEN, …). Kept across reconnects.
   */
  subscribe: <Data extends Record<string, unknown> = Record<string, unknown>>(pattern: string, handler: EventHandler<Data>) => Promise<Subscription>
  /** Removes `handler` (or every handler) from `pattern`; the last one out unsubscribes it. */
  unsubscribe: <Data extends Record<string, unknown> = Record<string, unknown>>(pattern: string, handler?: EventHandler<Data>) => Promise<void>
  /** The rooms the token put the connection in (its `groups` claim), as the gateway last said. */
  readonly groups: readonly string[]
  /**
   * Enters a room the token grants; resolves with the role there, rejects with the gateway's
   * code (FORBIDDEN, ROOM_FULL, TOO_MANY_ROOMS, …). Joined again on every reconnect, until `leave`.
   */
  join: (room: string) => Promise<RoomMembership>
  /** Leaves a room and forgets it; rejects with FORBIDDEN for a group of the token. */
  leave: (room: string) => Promise<void>
  /** Publishes an event into a room; resolves with its id once it is in the history. */
  publish: (room: string, type: string, data?: Record<string, unknown>, options?: PublishOptions) => Promise<string>
  /** Every room the token grants, with the role and whether this connection is in it. */
  rooms: () => Promise<RoomGrant[]>
  on: <K extends keyof ClientEvents>(name: K, listener: ClientEvents[K]) => () => void
  off: <K extends keyof ClientEvents>(name: K, listener: ClientEvents[K]) => void
  /** Closes the socket for good; resolves once it is closed. */
  close: () => Promise<void>
}

export interface ClientEvents {
  state: (state: ClientState, cause?: CloseInfo) => void
  /** Every attempt to come, with its delay: for a countdown (the state stays `reconnecting`). */
  reconnect: (info: ReconnectInfo) => void
  error: (error: EventgateError) => void
  /** Every event delivered, whichever pattern matched it, in id order within its partition. */
  event: (event: GatewayEvent) => void
  truncated: (info: TruncatedInfo) => void
  /** Every socket the gateway accepted, before its patterns are resubscribed. */
  connected: (info: ConnectedInfo) => void
  /** After a resubscribe with `since`; the `replayed` events follow it, then the live ones. */
  resumed: (info: ResumedInfo) => void
  rooms: (change: RoomChange) => void
}

/** The part of a WebSocket the client uses: the browser's `WebSocket` and `ws`'s class both have it. */
export interface WebSocketLike {
  readonly readyState: number
  send (data: string): void
  close (code?: number, reason?: string): void
  /** `ws` has it: drops the connection without waiting for the peer's close frame. */
  terminate? (): void
  addEventListener (type: 'open' | 'error', listener: () => void): void
  addEventListener (type: 'message', listener: (event: { data: unknown }) => void): void
  addEventListener (type: 'close', listener: (event: { code: number, reason: string }) => void): void
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

/** Console-shaped, so `console` itself fits. */
export interface Logger {
  debug: (message: string, details?: Record<string, unknown>) => void
  warn: (message: string, details?: Record<string, unknown>) => void
}

export interface ClientOptions {
  /** The gateway's base URL: `https://events.example.com` (or `wss://…`); a path is kept as a prefix. */
  url: string
  /** Called for every connect and every refresh; may return a promise. */
  getToken: () => string | Promise<string>
  /** The WebSocket class; defaults to `globalThis.WebSocket`, which browsers and Node 22 and later have. */
  WebSocket?: WebSocketConstructor
  /** `events` (default): `/ws/events`; `admin`: `/ws/admin`, role `admin` only. */
  stream?: Stream
  /**
   * `ticket` (default): the token goes in a header to `POST /ws/ticket`, and the single-use
   * ticket in the socket's URL. `query`: the token itself in the URL (`?token=`), which ends up
   * in proxy logs: only where tickets are unavailable.
   */
  auth?: 'ticket' | 'query'
  reconnect?: Partial<BackoffOptions>
  /** How long past the announced heartbeat interval silence means a dead connection. */
  heartbeatGraceMs?: number
  logger?: Logger
  /**
   * The gateway's MESSAGE_SIGNING_SECRET: requests are signed, and a frame from the gateway
   * whose signature does not hold is dropped and reported `INVALID_SIGNATURE`. For services
   * that share the secret, never for browsers: a secret shipped to a browser is no secret.
   */
  signingSecret?: string
}
