import { generateKeyPairSync } from 'node:crypto'
import { createSigner } from 'fast-jwt'

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'

export interface Claims {
  sub?: unknown
  sid?: string
  roles?: string[]
  permissions?: string[]
  jti?: string
  iss?: string
  aud?: string
  exp?: number
  nbf?: number
  [claim: string]: unknown
}

const HOUR = 3600

/** A signed HS256 token for `sub`, valid for an hour unless the claims say otherwise. */
export function token (claims: Claims, key = TEST_SECRET, algorithm: 'HS256' | 'RS256' | 'ES256' = 'HS256'): string {
  const now = Math.floor(Date.now() / 1000)
  const sign = createSigner({ key, algorithm })
  return sign({ iat: now, exp: now + HOUR, ...claims })
}

export const userToken = (sub: string, claims: Claims = {}): string => token({ sub, sid: `session-${sub}`, ...claims })
export const adminToken = (sub = 'admin-1'): string => token({ sub, roles: ['admin'] })
export const serviceToken = (sub = 'auth-service'): string => token({ sub, roles: ['service'] })

export function keyPair (type: 'rsa' | 'ec'): { publicKey: string, privateKey: string } {
  return type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    : generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
}
