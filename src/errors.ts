/**
 * The one catalogue of what eventgate can refuse, with the HTTP status, close code or
 * protocol error code that carries it. The tables of docs/protocol.md and docs/http-api.md are written from this file.
 */

/** Close codes sent to WebSocket clients (RFC 6455 range 4000-4999 is the application's). */
export const CloseCode = {
  /** Server is going away (shutdown): reconnect at once, another instance will take you. */
  GOING_AWAY: 1001,
  /** Policy violation: sustained message-rate abuse, or failed `reauthenticate` tokens from a blocked address. Do not retry at once. */
  POLICY_VIOLATION: 1008,
  /** A text frame that is not valid UTF-8 (sent by the WebSocket layer). */
  INVALID_PAYLOAD: 1007,
  /** A client frame larger than WEBSOCKET_MAX_PAYLOAD (sent by the WebSocket layer). */
  MESSAGE_TOO_BIG: 1009,
  /** Server restart: reconnect at once. */
  SERVICE_RESTART: 1012,
  /** This instance is full: back off, then retry (the load balancer picks another). */
  TRY_AGAIN_LATER: 1013,
  /** Missing, invalid or expired token: get a new token, then reconnect. */
  UNAUTHORIZED: 4001,
  /** Authenticated but not allowed here: do not retry. */
  FORBIDDEN: 4003,
  /** Too many connections for this user: back off, then retry. */
  TOO_MANY_CONNECTIONS: 4008,
  /**
   * The client read too slowly: its outbound buffer passed WEBSOCKET_MAX_BUFFERED_BYTES. The
   * reason is `slow_consumer:<id of the last event sent>`: reconnect and resume from that id.
   */
  SLOW_CONSUMER: 4009
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** Codes carried by `error` frames on a WebSocket. None of them closes the connection. */
export const ProtocolError = {
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  INVALID_PATTERN: 'INVALID_PATTERN',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  RATE_LIMITED: 'RATE_LIMITED',
  HISTORY_UNAVAILABLE: 'HISTORY_UNAVAILABLE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  INTERNAL_ERROR: 'INTERNAL_ERROR'
} as const
export type ProtocolErrorCode = (typeof ProtocolError)[keyof typeof ProtocolError]

/** Errors of the HTTP API, each with its status. The body is `{ statusCode, code, error, message, field? }`. */
export const HttpError = {
  EVENTGATE_INVALID_BODY: 400,
  EVENTGATE_UNAUTHORIZED: 401,
  EVENTGATE_FORBIDDEN: 403,
  EVENTGATE_ORIGIN_REJECTED: 403,
  EVENTGATE_NOT_FOUND: 404,
  EVENTGATE_PAYLOAD_TOO_LARGE: 413,
  EVENTGATE_RATE_LIMITED: 429,
  EVENTGATE_TOO_MANY_AUTH_FAILURES: 429,
  EVENTGATE_BUS_UNAVAILABLE: 503,
  /** This instance is shutting down: new requests and upgrades are refused, with Retry-After. */
  EVENTGATE_DRAINING: 503,
  EVENTGATE_INTERNAL: 500
} as const
export type HttpErrorCode = keyof typeof HttpError

/** An error the HTTP layer turns into its documented status and JSON body. */
export class GatewayError extends Error {
  readonly code: HttpErrorCode
  readonly statusCode: number
  readonly field: string | undefined

  constructor (code: HttpErrorCode, message: string, field?: string) {
    super(message)
    this.name = 'GatewayError'
    this.code = code
    this.statusCode = HttpError[code]
    this.field = field
  }
}

/** Why a WebSocket was refused: the close code and the short reason sent with it. */
export interface Refusal {
  code: CloseCode
  reason: string
}
