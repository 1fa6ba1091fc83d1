import type { FastifyInstance } from 'fastify'
import { isAdmin } from '../../src/identity.js'

/** GET /ws/admin: role `admin` only (else close 4003); every event of every user and namespace. */
export default async function adminStream (app: FastifyInstance) {
  app.get('/ws/admin', {
    websocket: true,
    schema: {
      tags: ['websocket'],
      summary: 'Every event of every user and namespace (WebSocket upgrade, role admin)',
      description: 'As `/ws/events`, for role `admin` (else closed `4003 admin_required`): also the gateway\'s security events (`security.*`, admin-only) and the `admin.*` namespace.',
      security: [{ bearerAuth: [] }, { cookieAuth: [] }, { accessTokenCookie: [] }, { ticket: [] }, { queryToken: [] }],
      response: { 101: { description: 'Switching Protocols: the socket is open; its first frame is `connected`, or a close with the refusal\'s code' } }
    },
    preValidation: [app.authenticateSocket, app.authorizeSocket(isAdmin, 'admin_required'), app.limitUpgrade, app.admitSocket]
  }, (socket, request) => {
    app.acceptSocket(socket, request, 'admin')
  })
}
