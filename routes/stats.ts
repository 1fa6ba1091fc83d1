import type { FastifyInstance } from 'fastify'
import { isAdmin } from '../src/identity.js'
import { Stats } from '../src/registry.js'
import { errorResponses } from './schemas.js'

/**
 * GET /ws/stats (admin): this instance's figures, and the cluster's from the registry
 * (`global` is null while Redis is unreachable).
 */
export default async function statsRoute (app: FastifyInstance) {
  app.get('/ws/stats', {
    schema: {
      tags: ['operations'],
      summary: 'This instance\'s figures and the cluster\'s',
      description: 'Role `admin`.',
      response: { 200: { ...Stats, description: 'Figures' }, ...errorResponses(401, 403, 429, 503) }
    },
    onRequest: [app.authenticate, app.authorize(isAdmin, 'stats need role admin')]
  }, async () => ({
    instance: app.instanceFigures(),
    global: await app.clusterFigures()
  }))
}
