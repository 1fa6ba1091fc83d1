import type { Stream } from '../wire/streams.js'
import { EventgateError } from './errors.js'
import type { ClientOptions } from './types.js'

export interface Endpoint {
  /** ws:// or wss:// URL of the stream, without credentials. */
  socket: string
  /** http:// or https:// URL of `POST /ws/ticket`. */
  ticket: string
}

const SCHEMES: Readonly<Record<string, [ws: string, http: string]>> = {
  'http:': ['ws:', 'http:'],
  'ws:': ['ws:', 'http:'],
  'https:': ['wss:', 'https:'],
  'wss:': ['wss:', 'https:']
}

/** The stream's URLs under the gateway's base URL, whose path, if any, is kept as a prefix. */
export function endpointOf (url: string, stream: Stream): Endpoint {
  const base = new URL(url)
  const schemes = SCHEMES[base.protocol]
  if (schemes === undefined) throw new TypeError(`url must be http(s):// or ws(s)://, not ${base.protocol}`)
  const prefix = base.pathname.replace(/\/+$/, '')
  if (/\/ws\/(events|admin)$/.test(prefix)) {
    throw new TypeError('url is the gateway\'s base URL; the stream option picks /ws/events or /ws/admin')
  }
  const at = (scheme: string, path: string): string => `${scheme}//${base.host}${prefix}${path}`
  return { socket: at(schemes[0], `/ws/${stream}`), ticket: at(schemes[1], '/ws/ticket') }
}

/**
 * Trades the token for a single-use ticket over HTTP, where the token travels in a header and
 * not in a URL that proxies log. Rejects with TICKET_FAILED and the HTTP status (0: no answer).
 */
export async function fetchTicket (url: string, token: string, timeoutMs: number): Promise<string> {
  let response: Awaited<ReturnType<typeof fetch>>
  try {
    response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    throw new EventgateError('TICKET_FAILED', `POST /ws/ticket failed: ${(err as Error).message}`, { status: 0, cause: err })
  }
  const body: unknown = await response.json().catch(() => undefined)
  const ticket = typeof body === 'object' && body !== null ? (body as { ticket?: unknown }).ticket : undefined
  if (response.status === 200 && typeof ticket === 'string') return ticket
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined
  throw new EventgateError('TICKET_FAILED', `POST /ws/ticket answered ${response.status}${typeof message === 'string' ? ` ${message}` : ''}`, {
    status: response.status,
    // The gateway's message starts with the reason code, then says it in words.
    reason: typeof message === 'string' ? message.split(':')[0] : undefined
  })
}

/**
 * A ticket request that failed for a reason the client backs off from without the application
 * being told, as for a socket closed 1006 or 1013: no answer, 429 or a 5xx (Redis down, draining).
 * A 401 is a refused token and is reported, like a 4001 close.
 */
export function isRoutineFailure (err: EventgateError): boolean {
  const status = err.status ?? -1
  return err.code === 'TICKET_FAILED' && (status === 0 || status === 429 || status >= 500)
}

function withCredential (socketUrl: string, name: 'ticket' | 'token', value: string): string {
  return `${socketUrl}?${name}=${encodeURIComponent(value)}`
}

/** A fresh token for every connect, then a ticket for it (the default) or the token itself in the URL. */
export async function socketUrl (endpoint: Endpoint, options: Pick<ClientOptions, 'getToken' | 'auth'>, timeoutMs: number): Promise<string> {
  let token: string
  try {
    token = await options.getToken()
  } catch (err) {
    throw new EventgateError('TOKEN_UNAVAILABLE', `getToken() failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  if (options.auth === 'query') return withCredential(endpoint.socket, 'token', token)
  return withCredential(endpoint.socket, 'ticket', await fetchTicket(endpoint.ticket, token, timeoutMs))
}
