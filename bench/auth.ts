import type { IncomingMessage } from 'node:http'
import { createSigner, createVerifier } from 'fast-jwt'

/** Every contender verifies HS256 tokens signed with this key; it exists only for benchmark runs. */
export const BENCH_SECRET = 'eventgate-benchmark-secret-not-for-any-deployment-0123456789'

const HOUR_S = 3600

const sign = createSigner({ key: BENCH_SECRET, algorithm: 'HS256' })

export function benchToken (sub: string, roles: string[] = []): string {
  const now = Math.floor(Date.now() / 1000)
  return sign({ sub, sid: `s-${sub}`, roles, iat: now, exp: now + HOUR_S })
}

export interface BenchClaims {
  sub: string
  roles?: string[]
}

/**
 * The check the baseline servers make, as eventgate makes it: signature, algorithm pinned,
 * `exp`; fast-jwt caches verified tokens in all three.
 */
export function benchVerifier (): (token: string) => BenchClaims {
  const verify = createVerifier({ key: BENCH_SECRET, algorithms: ['HS256'], cache: true })
  return (token) => verify(token) as BenchClaims
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearer (header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') === true ? header.slice(7) : undefined
}

/** Why a baseline server refuses a publish (404, 401, 403), or undefined: role `service` may publish. */
export function publishRefusal (request: IncomingMessage, verify: (token: string) => BenchClaims): number | undefined {
  if (request.method !== 'POST' || request.url !== '/publish') return 404
  try {
    return verify(bearer(request.headers.authorization) ?? '').roles?.includes('service') === true ? undefined : 403
  } catch {
    return 401
  }
}
