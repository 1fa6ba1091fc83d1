import type { FastifyInstance } from 'fastify'
import { isAdmin } from '../src/identity.js'

/**
 * GET /ws/stats (admin): this instance's figures, and the cluster's from the registry
 * (`global` is null while Redis is unreachable).
 */
export default async function statsRoute (app: FastifyInstance) {
  app.get('/ws/stats', {
    preValidation: [app.authenticate, app.authorize(isAdmin, 'stats need role admin')]
  }, async () => ({
    instance: app.instanceFigures(),
    global: await app.clusterFigures()
  }))
}
