import type { ProtocolErrorCode } from '../wire/protocol-errors.js'

/** Codes of the gateway's `error` frames (docs/protocol.md, Error frames). */
export type { ProtocolErrorCode }

/** What only the client can tell. */
export type ClientErrorCode =
  /** The gateway closed the socket with a code that concerns the client: `closeCode`, `reason`. */
  | 'CONNECTION_CLOSED'
  /** `getToken()` threw, or gave a token already expired or no fresher than the current one. */
  | 'TOKEN_UNAVAILABLE'
  /** `POST /ws/ticket` failed: `status` (0 for a network error). */
  | 'TICKET_FAILED'
  /** `maxAttempts` reconnects in a row failed; the client is closed. */
  | 'RECONNECT_EXHAUSTED'
  /** A subscription handler or listener threw; `cause` holds what it threw. */
  | 'HANDLER_FAILED'
  /** A frame from the gateway that the client cannot read. */
  | 'INVALID_FRAME'
  /** `close()` was called before the request was answered. */
  | 'CLIENT_CLOSED'

export type ErrorCode = ProtocolErrorCode | ClientErrorCode

export interface ErrorDetails {
  closeCode?: number
  reason?: string
  status?: number
  cause?: unknown
}

export class EventgateError extends Error {
  readonly code: ErrorCode
  readonly closeCode: number | undefined
  readonly reason: string | undefined
  readonly status: number | undefined

  constructor (code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'EventgateError'
    this.code = code
    this.closeCode = details.closeCode
    this.reason = details.reason
    this.status = details.status
  }
}
