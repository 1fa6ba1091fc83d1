import { isIPv4 } from 'node:net'

/** AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW and AUTH_FAILURE_COOLDOWN, as the configuration holds them. */
export interface AuthFailureLimits {
  limit: number
  windowMs: number
  cooldownMs: number
}

/** 127.0.0.0/8, ::1, and 127.x written as an IPv4-mapped IPv6 address (a dual-stack socket's view). */
export function isLoopback (ip: string): boolean {
  if (ip === '::1') return true
  const v4 = ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip
  return isIPv4(v4) && v4.startsWith('127.')
}

/**
 * Whether failed authentications from `ip` are counted at all. In development the person
 * trying tokens out on their own machine is the only one on loopback: a block would lock them
 * out of their own gateway for AUTH_FAILURE_COOLDOWN, and protects nothing a remote attacker
 * can reach.
 */
export function countsTowardBlock (ip: string, nodeEnv: string): boolean {
  return !(nodeEnv === 'development' && isLoopback(ip))
}

/**
 * The answer to a failing credential from a blocked address: until when, and which settings
 * decide it, so whoever locked themselves out knows what to wait for or to change.
 */
export function blockedMessage (blockedMs: number, limits: AuthFailureLimits, now = Date.now()): string {
  const until = new Date(now + blockedMs).toISOString()
  return `too many failed authentications from this address: blocked until ${until} ` +
    `(AUTH_FAILURE_LIMIT=${limits.limit} failures within AUTH_FAILURE_WINDOW=${limits.windowMs} ms block an address ` +
    `for AUTH_FAILURE_COOLDOWN=${limits.cooldownMs} ms); a valid token is still accepted`
}
