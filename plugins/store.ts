import fp from 'fastify-plugin'
import { MemoryStore } from '../src/store/memory.js'
import { RedisStore } from '../src/store/redis.js'
import type { Store } from '../src/store/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Shared state for limits, tickets and revocations: Redis when configured, else this process. */
    store: Store
  }
}

export default fp(async function storePlugin (app) {
  const store: Store = app.redis === null ? new MemoryStore() : new RedisStore(app.redis)
  app.decorate('store', store)
  app.addHook('onClose', async () => { await store.close() })
}, { name: 'store', dependencies: ['redis'] })
