/**
 * Allowed browser origins. An entry is `*` (any origin), an exact origin
 * (`https://app.example.com`), or one with wildcards: `https://*.example.com` matches any
 * subdomain at any depth but not `https://example.com` nor `https://example.com.evil.io`;
 * `http://localhost:*` matches any port.
 */
const ENTRY = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}|\*))?$/

/**
 * A Chrome extension's origin: `chrome-extension://<id>`, or `chrome-extension://*` for any
 * extension. Chrome writes an id as 32 letters `a` to `p` (a hash's hex digits shifted), so an
 * entry holding anything else could never match and is refused as a typo.
 */
const EXTENSION_ENTRY = /^chrome-extension:\/\/([a-p]{32}|\*)$/
const EXTENSION_ID = '[a-p]{32}'

/** Allowed in development when ALLOWED_ORIGINS is empty. */
export const DEVELOPMENT_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*']

export function originEntryError (entry: string): string | undefined {
  if (entry === '*' || EXTENSION_ENTRY.test(entry.toLowerCase())) return undefined
  const match = ENTRY.exec(entry.toLowerCase())
  const port = match?.[4]
  if (match !== null && (port === undefined || port === '*' || Number(port) <= 65535)) return undefined
  return `"${entry}" is not an origin (scheme://host[:port], with * for a subdomain or the port, or chrome-extension://<id or *>)`
}

export type OriginCheck = (origin: string) => boolean

export function originMatcher (entries: readonly string[]): OriginCheck {
  if (entries.includes('*')) return () => true
  const patterns = entries.map(compile)
  return (origin) => {
    const candidate = origin.toLowerCase()
    return patterns.some((p) => p.test(candidate))
  }
}

function compile (entry: string): RegExp {
  const extension = EXTENSION_ENTRY.exec(entry.toLowerCase())
  if (extension !== null) return new RegExp(`^chrome-extension://${extension[1] === '*' ? EXTENSION_ID : extension[1]}$`)
  const match = ENTRY.exec(entry.toLowerCase())
  if (match === null) throw new Error(originEntryError(entry))
  const [, scheme, wildcard, host, port] = match
  const subdomains = wildcard === undefined ? '' : '(?:[a-z0-9-]+\\.)+'
  const portPart = port === undefined ? '' : port === '*' ? '(?::\\d{1,5})?' : `:${port}`
  return new RegExp(`^${scheme}://${subdomains}${escape(host as string)}${portPart}$`)
}

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
