import type { FastifyInstance } from 'fastify'

/**
 * GET /ws/events: a user's stream. It carries the user's own events and broadcasts (events
 * without `userId`), never the admin-only namespaces.
 */
export default async function eventsStream (app: FastifyInstance) {
  app.get('/ws/events', {
    websocket: true,
    config: { rateLimit: app.rateLimits.upgrade },
    preValidation: [app.authenticateSocket, app.admitSocket]
  }, (socket, request) => {
    app.acceptSocket(socket, request, 'user')
  })
}
