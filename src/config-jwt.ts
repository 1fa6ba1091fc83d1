import { createPublicKey } from 'node:crypto'
import { ConfigError } from './config-errors.js'
import type { Env } from './config.js'

/**
 * The development key, used only when no key is configured outside production. It is public
 * on purpose: `npm run token` signs with it, so a fresh clone works without set-up.
 */
export const DEV_JWT_SECRET = 'eventgate-development-secret-never-use-in-production'

/** The algorithm a token must be signed with, pinned by the configured key. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256' | 'ES384'

/** JWT_SECRET or JWT_PUBLIC_KEY, with the claims the gateway checks; the development key outside production. */
export function resolveJwt (values: Env): { key: string, algorithm: JwtAlgorithm, development: boolean, issuer?: string, audience?: string } {
  const claims = {
    ...(values.JWT_ISSUER === undefined ? {} : { issuer: values.JWT_ISSUER }),
    ...(values.JWT_AUDIENCE === undefined ? {} : { audience: values.JWT_AUDIENCE })
  }
  if (values.JWT_SECRET !== undefined && values.JWT_PUBLIC_KEY !== undefined) {
    throw new ConfigError('JWT_SECRET', 'set either JWT_SECRET or JWT_PUBLIC_KEY, not both')
  }
  if (values.JWT_PUBLIC_KEY !== undefined) {
    const key = values.JWT_PUBLIC_KEY.replace(/\\n/g, '\n')
    return { key, algorithm: publicKeyAlgorithm(key), development: false, ...claims }
  }
  if (values.JWT_SECRET !== undefined) return { key: values.JWT_SECRET, algorithm: 'HS256', development: false, ...claims }
  if (values.NODE_ENV === 'production') {
    throw new ConfigError('JWT_SECRET', 'a JWT key is required when NODE_ENV=production (set JWT_SECRET or JWT_PUBLIC_KEY)')
  }
  return { key: DEV_JWT_SECRET, algorithm: 'HS256', development: true, ...claims }
}

/** Pins the algorithm to the key's type, so a token can never pick HS256 against a public key. */
function publicKeyAlgorithm (pem: string): JwtAlgorithm {
  // createPublicKey would derive a public key from a private one; a gateway never holds one.
  if (pem.includes('PRIVATE KEY')) throw new ConfigError('JWT_PUBLIC_KEY', 'must be a public key, not a private key')
  let key
  try {
    key = createPublicKey(pem)
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY', 'is not a PEM public key')
  }
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  const curve = key.asymmetricKeyDetails?.namedCurve
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return 'ES256'
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return 'ES384'
  throw new ConfigError('JWT_PUBLIC_KEY', 'must be an RSA, P-256 or P-384 public key')
}
