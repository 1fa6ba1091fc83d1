import fp from 'fastify-plugin'
import type { Bus } from '../src/bus/bus.js'
import { MemoryBus } from '../src/bus/memory.js'
import { RedisBus } from '../src/bus/redis.js'
import { Partitioning } from '../src/partitions.js'

declare module 'fastify' {
  interface FastifyInstance {
    bus: Bus
  }
}

export default fp(async function busPlugin (app) {
  const { redis: target, retention, serverId, durability, partitions } = app.config
  const bus: Bus = app.redis === null || target === undefined
    ? new MemoryBus(retention)
    : new RedisBus(target, app.redis, app.log.child({ component: 'bus' }), retention, serverId, durability, new Partitioning(partitions))
  app.decorate('bus', bus)
  app.addHook('onClose', async () => { await bus.close() })
}, { name: 'bus', dependencies: ['config', 'redis'] })
