import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { connectRedis } from '../src/redis-connection.js'
import { RevocationFeed } from '../src/revocation-feed.js'
import { OWN_VIEW, Revocations } from '../src/revocations.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Revoked sessions and users in the shared store, for REVOCATION_TTL; auth refuses what they cover. */
    revocations: Revocations
  }
}

/**
 * Embedded, every revocation goes through this instance, whose memory is the whole view. On one
 * Redis a feed keeps the view whole (src/revocation-feed.ts), so a connect reads no revocation
 * from Redis. On a cluster every authentication reads the store: its sharded subscriptions give
 * no single signal of a lost message that the feed could reload on.
 */
export default fp(async function revocationsPlugin (app) {
  const log = app.log.child({ component: 'revocations' })
  const { redis, config, store } = app
  const revocations = new Revocations(store, config.revocationTtlMs, log)
  app.decorate('revocations', revocations)
  if (redis === null) {
    revocations.watchedBy(OWN_VIEW)
    return
  }
  const target = config.redis
  if (target?.kind !== 'single') return
  const subscriber = connectRedis(target, 'subscriber', log, 'revocations')
  if (!(subscriber instanceof Redis)) throw new TypeError('one Redis gives one connection')
  const feed = new RevocationFeed(subscriber, redis, store, revocations, config.revocationTtlMs, log)
  revocations.watchedBy(feed)
  feed.start()
  app.addHook('onClose', async () => { feed.stop() })
}, { name: 'revocations', dependencies: ['config', 'redis', 'store'] })
