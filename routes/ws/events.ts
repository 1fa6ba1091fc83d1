import type { FastifyInstance } from 'fastify'

/**
 * GET /ws/events: a user's stream. It carries the user's own events and broadcasts (events
 * without `userId`), never the admin-only namespaces.
 */
export default async function eventsStream (app: FastifyInstance) {
  app.get('/ws/events', {
    websocket: true,
    schema: {
      tags: ['websocket'],
      summary: 'A user\'s event stream (WebSocket upgrade)',
      description: 'Upgrade to a WebSocket, then send JSON frames: `subscribe` (with an optional `since` to resume), `unsubscribe`, `get_subscriptions`, `ping`, `reauthenticate`; a socket opened without any credential must first send `authenticate` (or `auth`) within WEBSOCKET_AUTH_TIMEOUT. Carries the user\'s own events and broadcasts, never admin-only namespaces. A refused socket is accepted and closed at once with a 4xxx code (docs/protocol.md: Close codes); the upgrade itself fails only for an origin not allowed (403), the upgrade rate limit (429) or a draining instance (503).',
      security: [{ bearerAuth: [] }, { cookieAuth: [] }, { accessTokenCookie: [] }, { ticket: [] }, { queryToken: [] }],
      response: { 101: { description: 'Switching Protocols: the socket is open; its first frame is `connected`, or a close with the refusal\'s code' } }
    },
    preValidation: [app.authenticateSocket, app.limitUpgrade, app.admitSocket]
  }, (socket, request) => {
    app.acceptSocket(socket, request, 'events')
  })
}
