import fp from 'fastify-plugin'
import { connectRedis, type RedisClient, readyWithin } from '../src/redis-connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The command connection (one Redis or a cluster), or null on the embedded default. */
    redis: RedisClient | null
  }
}

/** How long the start waits for Redis before serving without it. */
const BOOT_WAIT_MS = 2000

/**
 * Connects when REDIS_URL or REDIS_CLUSTER_NODES is set. An unreachable Redis does not stop the
 * start: the gateway serves, reports itself unhealthy and keeps reconnecting.
 */
export default fp(async function redisPlugin (app) {
  const target = app.config.redis
  const redis = target === undefined ? null : connectRedis(target, 'commands', app.log)
  app.decorate<RedisClient | null>('redis', redis)
  app.addHook('onClose', async () => { redis?.disconnect() })
  if (redis !== null && !await readyWithin(redis, BOOT_WAIT_MS)) app.log.warn('redis is not reachable yet; starting without it')
}, { name: 'redis', dependencies: ['config'] })
