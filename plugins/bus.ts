import fp from 'fastify-plugin'
import type { Bus } from '../src/bus/bus.js'
import { MemoryBus } from '../src/bus/memory.js'
import { RedisBus } from '../src/bus/redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    bus: Bus
  }
}

export default fp(async function busPlugin (app) {
  const { retention, serverId } = app.config
  const redisUrl = app.config.redis?.kind === 'single' ? app.config.redis.url : undefined
  const bus: Bus = app.redis === null || redisUrl === undefined
    ? new MemoryBus(retention)
    : new RedisBus(redisUrl, app.redis, app.log.child({ component: 'bus' }), retention, serverId)
  app.decorate('bus', bus)
  app.addHook('onClose', async () => { await bus.close() })
}, { name: 'bus', dependencies: ['config', 'redis'] })
