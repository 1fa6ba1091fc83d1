import type { CloseCode } from './wire/close-codes.js'

/**
 * The one catalogue of what eventgate can refuse, with the HTTP status, close code or
 * protocol error code that carries it. The tables of docs/protocol.md and docs/http-api.md are
 * written from this file. Close codes and protocol error codes are part of the wire contract
 * the SDK shares: they are defined in src/wire/ and listed here with the HTTP errors.
 */
export { CloseCode } from './wire/close-codes.js'
export { ProtocolError, type ProtocolErrorCode } from './wire/protocol-errors.js'

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
