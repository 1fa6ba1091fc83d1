import type { FastifyInstance } from 'fastify'
import { canReadStats } from '../src/identity.js'
import { Stats } from '../src/registry.js'
import { errorResponses } from './schemas.js'

/**
 * GET /ws/stats (admin or moderator): this instance's figures, the cluster's from the registry
 * (`global` is null while Redis is unreachable), and the events this instance holds back.
 */
export default async function statsRoute (app: FastifyInstance) {
  app.get('/ws/stats', {
    schema: {
      tags: ['operations'],
      summary: 'This instance\'s figures and the cluster\'s',
      description: 'Role `admin` or `moderator`. `server` and `instance` are the same figures under two names.',
      response: { 200: { ...Stats, description: 'Figures' }, ...errorResponses(401, 403, 429, 503) }
    },
    onRequest: [app.authenticate, app.authorize(canReadStats, 'stats need role admin or moderator')]
  }, async () => {
    const server = app.instanceFigures()
    return {
      server,
      global: await app.clusterFigures(),
      notifications: { queueLength: app.hub.heldEvents() },
      instance: server
    }
  })
}
