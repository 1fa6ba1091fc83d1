import fp from 'fastify-plugin'
import { Revocations } from '../src/revocations.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Revoked sessions and users in the shared store, for REVOCATION_TTL; auth refuses what they cover. */
    revocations: Revocations
  }
}

export default fp(async function revocationsPlugin (app) {
  const log = app.log.child({ component: 'revocations' })
  app.decorate('revocations', new Revocations(app.store, app.config.revocationTtlMs, log))
}, { name: 'revocations', dependencies: ['config', 'store'] })
