import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { connectRedis, readyWithin } from '../src/redis-connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The command connection, or null on the embedded default (no REDIS_URL). */
    redis: Redis | null
  }
}

/** How long the start waits for Redis before serving without it. */
const BOOT_WAIT_MS = 2000

/**
 * Connects when REDIS_URL is set. An unreachable Redis does not stop the start: the gateway
 * serves, reports itself unhealthy and keeps reconnecting.
 */
export default fp(async function redisPlugin (app) {
  const redisUrl = app.config.redis?.kind === 'single' ? app.config.redis.url : undefined
  const redis = redisUrl === undefined ? null : connectRedis(redisUrl, 'commands', app.log)
  app.decorate('redis', redis)
  app.addHook('onClose', async () => { redis?.disconnect() })
  if (redis !== null && !await readyWithin(redis, BOOT_WAIT_MS)) app.log.warn('redis is not reachable yet; starting without it')
}, { name: 'redis', dependencies: ['config'] })
