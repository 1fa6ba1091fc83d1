import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from './schemas.js'

// Open objects: a figure added to the registry reaches clients without a schema change.
const Figures = Type.Object({
  serverId: Type.String(),
  connections: Type.Integer(),
  users: Type.Integer(),
  subscriptions: Type.Integer(),
  eventsPublished: Type.Integer(),
  eventsReceived: Type.Integer(),
  deliveries: Type.Integer(),
  busRoundTripMs: Type.Union([Type.Number(), Type.Null()])
}, { additionalProperties: true })
const Stats = Type.Object({
  instance: Figures,
  global: Type.Union([
    Type.Object({ totalServers: Type.Integer(), totalConnections: Type.Integer(), servers: Type.Array(Figures) }, { additionalProperties: true }),
    Type.Null()
  ], { description: 'every live instance; null while Redis is unreachable' })
})
import { isAdmin } from '../src/identity.js'

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
