import type { ConnectedInfo, Stream } from '../src/client/index.js'
import { timeWithZone } from './time-format.js'

/**
 * The roles a token claims, read from its payload for display only: the gateway checked the
 * signature, the page just says what it was given. Undefined for a token it cannot read.
 */
export function rolesOf (token: string): string[] | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { roles?: unknown }
    return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : []
  } catch {
    return undefined
  }
}

/** `alice · roles admin · /ws/admin · instance eg-1a2b · token expires 15:03:04 GMT+1`. */
export function sessionLine (info: ConnectedInfo, token: string, stream: Stream): string {
  const roles = rolesOf(token)
  const expires = info.expiresAt === undefined ? 'token never expires' : `token expires ${timeWithZone(new Date(info.expiresAt))}`
  return [
    info.userId,
    roles === undefined || roles.length === 0 ? 'no roles' : `roles ${roles.join(', ')}`,
    stream === 'admin' ? '/ws/admin' : '/ws/events',
    `instance ${info.serverId}`,
    expires
  ].join(' · ')
}
