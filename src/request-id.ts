import { randomUUID } from 'node:crypto'

/** The header a request's id is read from and echoed in, lower-case as Node presents headers. */
export const REQUEST_ID_HEADER = 'x-request-id'

/** Longest id taken from a client: room for a UUID, a trace id or a proxy's own format. */
export const MAX_REQUEST_ID_LENGTH = 128

/**
 * Visible ASCII only: the id is written into every log line of its request and echoed in a
 * response header, so a control character (a forged log line, a split header) or a megabyte
 * of text is not taken.
 */
const SANE_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`)

/**
 * The id of a request: the one its client or a proxy in front sent, when it is sane, so a
 * request can be followed across services; a fresh UUID otherwise. A header sent twice
 * arrives as one joined by commas, and is taken or refused as a whole.
 */
export function requestId (header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_ID.test(header) ? header : randomUUID()
}
