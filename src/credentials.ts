/** Where a request's token came from. */
export type CredentialSource = 'header' | 'cookie' | 'ticket' | 'query'

export interface Credential {
  token: string
  source: CredentialSource
}

/** What a request carries that may hold a credential, as it arrived. */
export interface CredentialCarrier {
  authorization: string | undefined
  cookie: string | undefined
  /** The request target: path, query and anything a hand-made client sent after `#`. */
  url: string
}

/**
 * The token, from the first source that has one: the Authorization header, then on WebSocket
 * upgrades the `access_token` cookie and the `ticket` query parameter, then the `token` query
 * parameter.
 *
 * The cookie counts on upgrades only, where the origin check runs first: any site can make a
 * browser POST with it (cross-site request forgery). A token after `#` never counts: browsers
 * never send the fragment, so only a hand-made client puts one there, and whatever follows `#`
 * is no query, whatever the router makes of it.
 */
export function credentialFrom (carrier: CredentialCarrier, upgrade: boolean): Credential | undefined {
  const header = bearerToken(carrier.authorization)
  if (header !== undefined) return { token: header, source: 'header' }
  if (upgrade) {
    const cookie = cookieValue(carrier.cookie, 'access_token')
    if (cookie !== undefined) return { token: cookie, source: 'cookie' }
  }
  const query = queryOf(carrier.url)
  if (query === undefined) return undefined
  const ticket = upgrade ? query.get('ticket') : null
  if (ticket !== null && ticket !== '') return { token: ticket, source: 'ticket' }
  const token = query.get('token')
  if (token !== null && token !== '') return { token, source: 'query' }
  return undefined
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerToken (header: string | undefined): string | undefined {
  if (header === undefined || !/^Bearer\s+\S/i.test(header)) return undefined
  return header.replace(/^Bearer\s+/i, '').trim()
}

/** The query parameters before any `#`; undefined without a query. */
function queryOf (url: string): URLSearchParams | undefined {
  const hash = url.indexOf('#')
  const target = hash === -1 ? url : url.slice(0, hash)
  const start = target.indexOf('?')
  return start === -1 ? undefined : new URLSearchParams(target.slice(start + 1))
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    try {
      return decodeURIComponent(raw) || undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * Whether a refusal counts toward AUTH_FAILURE_LIMIT. A missing credential guesses nothing, and
 * revocations that could not be read (Redis unreachable) are no fault of the sender.
 */
export function countsAsFailure (reason: string): boolean {
  return reason !== 'token_missing' && reason !== 'revocation_unavailable'
}
