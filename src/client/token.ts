/**
 * The `exp` of a JWT in epoch milliseconds, read without verifying it (the gateway verifies):
 * only to tell a token that cannot be fresh enough before it is sent. Browser-safe: `atob` and
 * `TextDecoder`, no Buffer. `undefined` for a token without a readable `exp`.
 */
export function tokenExpiresAt (jwt: string): number | undefined {
  const payload = jwt.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=')
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes))
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/** The client's own refresh comes this long before `exp` at most. */
const MAX_REFRESH_LEAD_MS = 30_000

/**
 * When the client refreshes on its own, should no `token_expiring` come (TOKEN_EXPIRY_WARNING=0):
 * a quarter of the remaining lifetime before `exp`, at most 30 s before it.
 */
export function refreshDue (expiresAt: number, learntAt: number): number {
  return expiresAt - Math.min(MAX_REFRESH_LEAD_MS, (expiresAt - learntAt) / 4)
}

/**
 * The earliest a `token_expiring` may make the client refresh: halfway through the lifetime
 * left when the deadline was learnt. A token shorter than the server's warning is warned of as
 * soon as it is sent, and refreshing at once would ask for tokens in a tight loop.
 */
export function earliestRefresh (expiresAt: number, learntAt: number): number {
  return learntAt + (expiresAt - learntAt) / 2
}
