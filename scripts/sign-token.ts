import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSigner } from 'fast-jwt'
import { DEV_JWT_SECRET } from '../src/config.js'
import { envValue } from './command-line.js'

export interface TokenClaims {
  sub: string
  sid?: string | undefined
  roles?: string[]
  permissions?: string[]
  iss?: string | undefined
  aud?: string | undefined
  /** Lifetime in seconds. */
  ttl: number
}

/**
 * A JWT as the gateway expects it, signed with JWT_SECRET, or with the development key the
 * gateway accepts when no key is configured (JWT_SECRET unset or empty, as the gateway reads it), or with a PEM private key (RS256/ES256). `iss`
 * and `aud` default to the gateway's JWT_ISSUER and JWT_AUDIENCE, as it checks them.
 */
export function signToken ({ ttl, roles = [], permissions = [], iss = envValue('JWT_ISSUER'), aud = envValue('JWT_AUDIENCE'), ...claims }: TokenClaims, privateKeyFile?: string): string {
  const now = Math.floor(Date.now() / 1000)
  const payload = {
    ...Object.fromEntries(Object.entries({ ...claims, iss, aud }).filter(([, value]) => value !== undefined)),
    ...(roles.length === 0 ? {} : { roles }),
    ...(permissions.length === 0 ? {} : { permissions }),
    iat: now,
    exp: now + ttl
  }
  return createSigner(signingKey(privateKeyFile))(payload)
}

function signingKey (file: string | undefined): { key: string, algorithm: 'HS256' | 'RS256' | 'ES256' } {
  if (file === undefined) return { key: envValue('JWT_SECRET') ?? DEV_JWT_SECRET, algorithm: 'HS256' }
  let key: string
  try {
    key = readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err })
  }
  let type
  try {
    type = createPrivateKey(key).asymmetricKeyType
  } catch (err) {
    throw new Error('is not a PEM private key, e.g. one from `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`', { cause: err })
  }
  return { key, algorithm: type === 'rsa' ? 'RS256' : 'ES256' }
}
