import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { GatewayError } from '../src/errors.js'
import { budgetStore } from '../src/rate-budget-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * WebSocket routes, between authentication and admission: RATE_LIMIT_UPGRADES per address
     * for an upgrade whose credentials were refused or that carried none. An authenticated one
     * is counted per user by its admission (`admitUser`).
     */
    limitUpgrade: preHandlerAsyncHookHandler
    /** Route-level rate-limit settings: `config: { rateLimit: app.rateLimits.upgrade }`. */
    rateLimits: {
      /** Tickets (after authentication): per user, like the upgrades they lead to. */
      upgrade: RateLimitOptions
      /** Publishing, per authenticated identity, checked after authentication. */
      publish: RateLimitOptions
    }
  }
}

const MINUTE_MS = 60_000

/**
 * HTTP rate limits. With Redis configured the counters live there, so each limit is global
 * across instances; each instance leases from them for its busy keys (see RateBudget) rather than
 * counting every request with a round trip. When the store is unreachable requests pass (`skipOnError`): the bus is
 * down then too, and refusing every client would turn an outage into a lock-out.
 */
export default fp(async function rateLimitPlugin (app) {
  const { config, security } = app
  await app.register(rateLimit, {
    global: false,
    ...(app.redis === null ? {} : { store: budgetStore(app.redis, 'eventgate:ratelimit:') }),
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new GatewayError('EVENTGATE_RATE_LIMITED', `rate limit of ${context.max} per minute exceeded; retry in ${context.after}`),
    onExceeded: (request: FastifyRequest) => {
      security.report('security.rate_limit.exceeded', {
        reason: request.ws ? 'upgrades' : 'publishing',
        route: request.routeOptions.url,
        userId: request.user?.userId,
        ip: request.ip,
        userAgent: request.headers['user-agent']
      })
    }
  })
  // Keyed by the user once authenticated, so others behind the same address (a NAT, an office
  // proxy) cannot use up a user's upgrades with requests of their own; refused ones by address.
  const upgrade: RateLimitOptions = {
    max: config.rateLimits.upgradesPerMinute,
    timeWindow: MINUTE_MS,
    keyGenerator: (request: FastifyRequest) => request.refusal === undefined && !request.pending ? `upgrade:user:${request.user.userId}` : `upgrade:ip:${request.ip}`
  }
  // An authenticated upgrade is counted by its admission instead, in the store call that takes
  // its slot (plugins/sockets.ts): one round trip to Redis for both.
  app.decorate('limitUpgrade', app.rateLimit({
    ...upgrade,
    allowList: (request: FastifyRequest) => request.refusal === undefined && !request.pending,
    keyGenerator: (request: FastifyRequest) => `upgrade:ip:${request.ip}`
  }))
  app.decorate('rateLimits', {
    upgrade: { ...upgrade, hook: 'onRequest' },
    publish: {
      max: config.rateLimits.publishPerMinute,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      keyGenerator: (request: FastifyRequest) => `publish:${request.user.userId}`
    }
  })
}, { name: 'rate-limit', dependencies: ['config', 'redis', 'security', 'websocket'] })
