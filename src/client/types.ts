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

/** What `subscribe` resolves with. */
export interface Subscription {
  pattern: string
  /** Removes this handler; the pattern is unsubscribed once no handler is left on it. */
  unsubscribe: () => Promise<void>
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
