import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { GatewayError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Route-level rate-limit settings: `config: { rateLimit: app.rateLimits.upgrade }`. */
    rateLimits: {
      /** WebSocket upgrades, per IP, checked before anything else. */
      upgrade: RateLimitOptions
      /** Publishing, per authenticated identity, checked after authentication. */
      publish: RateLimitOptions
    }
  }
}

const MINUTE_MS = 60_000

/**
 * HTTP rate limits. With Redis configured the counters live there, so each limit is global
 * across instances. When the store is unreachable requests pass (`skipOnError`): the bus is
 * down then too, and refusing every client would turn an outage into a lock-out.
 */
export default fp(async function rateLimitPlugin (app) {
  const { config, security } = app
  await app.register(rateLimit, {
    global: false,
    ...(app.redis === null ? {} : { redis: app.redis, nameSpace: 'eventgate:ratelimit:' }),
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
  app.decorate('rateLimits', {
    upgrade: { max: config.rateLimits.upgradesPerMinute, timeWindow: MINUTE_MS, hook: 'onRequest' },
    publish: {
      max: config.rateLimits.publishPerMinute,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      keyGenerator: (request: FastifyRequest) => `publish:${request.user.userId}`
    }
  })
}, { name: 'rate-limit', dependencies: ['config', 'redis', 'security', 'websocket'] })
