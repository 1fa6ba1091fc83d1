import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { GatewayError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route that needs no authentication, such as the health check. */
    public?: boolean
  }
  interface FastifyInstance {
    /** Counts a failed authentication from `ip`; past the limit the IP is blocked for the cool-down. */
    recordAuthFailure: (ip: string) => void
  }
}

/**
 * Brute-force protection: failed authentications are counted per IP in the shared store, so
 * the count is global across instances. Past AUTH_FAILURE_LIMIT within AUTH_FAILURE_WINDOW,
 * every request from that IP that needs authentication is refused with 429 for
 * AUTH_FAILURE_COOLDOWN, before its token is even read.
 */
export default fp(async function authFailuresPlugin (app) {
  const { store, config, security } = app
  const { limit, windowMs, cooldownMs } = config.authFailures
  const log = app.log.child({ component: 'auth-failures' })

  app.decorate('recordAuthFailure', (ip: string) => {
    store.increment(`authfail:${ip}`, windowMs).then(async (count) => {
      if (count < limit) return
      await store.put(`authblock:${ip}`, '1', cooldownMs)
      if (count === limit) security.report('security.rate_limit.exceeded', { reason: 'auth_failures', ip, failures: count, cooldownMs })
    }).catch((err: unknown) => log.debug({ err, ip }, 'auth failure not counted'))
  })

  async function refuseBlocked (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const blockedMs = await store.ttl(`authblock:${request.ip}`).catch(() => 0)
    if (blockedMs <= 0) return
    void reply.header('retry-after', String(Math.ceil(blockedMs / 1000)))
    throw new GatewayError('EVENTGATE_TOO_MANY_AUTH_FAILURES', 'too many failed authentications from this address; retry later')
  }

  // First of every non-public route's preValidation hooks: after onRequest, so upgrade
  // requests are known as such (and their sockets cleaned up), before any token is read.
  app.addHook('onRoute', (route) => {
    if (route.config?.public === true) return
    const existing = route.preValidation === undefined ? [] : [route.preValidation].flat()
    route.preValidation = [refuseBlocked, ...existing]
  })
}, { name: 'auth-failures', dependencies: ['config', 'store', 'security'] })
