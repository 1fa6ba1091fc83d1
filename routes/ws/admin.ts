import type { FastifyInstance } from 'fastify'
import { isAdmin } from '../../src/identity.js'

/** GET /ws/admin: role `admin` only (else close 4003); every event of every user and namespace. */
export default async function adminStream (app: FastifyInstance) {
  app.get('/ws/admin', {
    websocket: true,
    config: { rateLimit: app.rateLimits.upgrade },
    preValidation: [app.authenticateSocket, app.authorizeSocket(isAdmin, 'admin_required'), app.admitSocket]
  }, (socket, request) => {
    app.acceptSocket(socket, request, 'admin')
  })
}
