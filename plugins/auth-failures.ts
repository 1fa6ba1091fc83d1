import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { blockedMessage, countsTowardBlock } from '../src/auth-block.js'
import { GatewayError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A credential from `ip` failed verification. Resolves with the milliseconds the address
     * stays blocked, and then the failure is not counted again; or with 0 once it is counted.
     */
    authFailure: (ip: string) => Promise<number>
    /**
     * `authFailure` for an HTTP request or an upgrade: refuses it 429
     * EVENTGATE_TOO_MANY_AUTH_FAILURES, with Retry-After, while its address is blocked.
     */
    refuseAuthFailure: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

/**
 * Brute-force protection: failed authentications are counted per IP in the shared store, so
 * the count is global across instances. Past AUTH_FAILURE_LIMIT within AUTH_FAILURE_WINDOW the
 * IP is blocked for AUTH_FAILURE_COOLDOWN: a credential from it that fails verification is
 * refused 429 instead of 401.
 *
 * Only credentials that fail verification count, and the block is looked at only once one has
 * failed: a request without a token guesses nothing, and an address is shared (a NAT, a proxy,
 * an office), so whoever sends bad tokens from it must not lock out its valid users. Routes
 * that take no credential (the dashboard and its assets, /docs, /asyncapi.json, the probes)
 * never reach this, so a blocked address still sees them; in development, loopback is never
 * counted (src/auth-block.ts).
 */
export default fp(async function authFailuresPlugin (app) {
  const { store, config, security } = app
  const { limit, windowMs, cooldownMs } = config.authFailures
  const { nodeEnv } = config
  const log = app.log.child({ component: 'auth-failures' })

  async function authFailure (ip: string): Promise<number> {
    if (!countsTowardBlock(ip, nodeEnv)) return 0
    const blockedMs = await store.ttl(`authblock:${ip}`).catch(() => 0)
    if (blockedMs > 0) return blockedMs
    // Awaited, so the failure that reaches the limit has set the block before its answer leaves.
    try {
      const count = await store.increment(`authfail:${ip}`, windowMs)
      if (count < limit) return 0
      await store.put(`authblock:${ip}`, '1', cooldownMs)
      if (count === limit) security.report('security.rate_limit.exceeded', { reason: 'auth_failures', ip, failures: count, cooldownMs })
    } catch (err) {
      log.debug({ err, ip }, 'auth failure not counted')
    }
    return 0
  }
  app.decorate('authFailure', authFailure)

  app.decorate('refuseAuthFailure', async function refuseAuthFailure (request: FastifyRequest, reply: FastifyReply) {
    const blockedMs = await authFailure(request.ip)
    if (blockedMs <= 0) return
    void reply.header('retry-after', String(Math.ceil(blockedMs / 1000)))
    throw new GatewayError('EVENTGATE_TOO_MANY_AUTH_FAILURES', blockedMessage(blockedMs, config.authFailures))
  })
}, { name: 'auth-failures', dependencies: ['config', 'store', 'security'] })
