import { createSigner } from 'fast-jwt'

/** The instances' HS256 key: it exists only for abuse runs. */
export const ABUSE_SECRET = 'eventgate-abuse-suite-secret-not-for-any-deployment-0123456789'
/** The instances' METRICS_TOKEN. */
export const METRICS_TOKEN = 'abuse-suite-metrics-token-0123456789'

const HOUR_S = 3600
const sign = createSigner({ key: ABUSE_SECRET, algorithm: 'HS256' })
/** Same claims, another key: a forged token the gateway must refuse. */
const forge = createSigner({ key: `${ABUSE_SECRET}-forged`, algorithm: 'HS256' })

function claims (sub: string, roles: string[]): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { sub, sid: `s-${sub}`, ...(roles.length === 0 ? {} : { roles }), iat: now, exp: now + HOUR_S }
}

/** A valid token of an ordinary user. */
export const userToken = (sub: string): string => sign(claims(sub, []))
/** A valid token that may publish. */
export const serviceToken = (sub: string): string => sign(claims(sub, ['service']))
/** A valid administrator's token (role `admin`): it may revoke sessions and publish. */
export const adminToken = (sub: string): string => sign(claims(sub, ['admin']))
/** A well-formed token with a signature the gateway cannot verify. */
export const forgedToken = (sub: string): string => forge(claims(sub, []))
