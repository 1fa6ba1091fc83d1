import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../src/errors.js'
import { canPublish } from '../src/identity.js'
import { notificationKind } from '../src/notification-kind.js'
import { Accepted, assertDataSize, errorResponses, groupsOf, idempotencyKey, Notification, PublishHeaders } from './schemas.js'

/**
 * POST /notifications: a `notification.user` event for one user (and the rooms named beside),
 * `notification.group` for rooms alone, or `notification.broadcast` for everyone.
 */
export default async function notificationsRoutes (app: FastifyInstance) {
  app.post<{ Body: Static<typeof Notification> }>('/notifications', {
    schema: {
      tags: ['publishing'],
      summary: 'Notify one user, rooms, or everyone',
      description: 'Same rights as POST /events. Becomes a `notification.user` event for `userId` (and the `groups` or `room` named beside), `notification.group` for rooms alone, or `notification.broadcast` for everyone, with `data: {level, type, title, message, data?}`. Give `level` or `type`, or both if they agree; the event carries both.',
      body: Notification,
      headers: PublishHeaders,
      response: { 202: { ...Accepted, description: 'The notification event is in the history: its id' }, ...errorResponses(400, 401, 403, 413, 429, 503) }
    },
    config: { rateLimit: app.rateLimits.publish },
    onRequest: [app.authenticate, app.authorize(canPublish, 'notifying needs role service or admin, or permission events:publish')]
  }, async (request, reply) => {
    assertDataSize(request.body.data, 'data', app.config.maxDataBytes)
    const { userId, level, type, room, groups, ...rest } = request.body
    const kind = notificationKind(level, type)
    if (typeof kind === 'string') throw new GatewayError('EVENTGATE_INVALID_BODY', kind, type === undefined ? 'level' : 'type')
    const rooms = groupsOf({ room, groups })
    const data = { ...kind, ...rest }
    const input = userId !== undefined
      ? { type: 'notification.user', userId, ...(rooms === undefined ? {} : { groups: rooms }), data }
      : rooms !== undefined ? { type: 'notification.group', groups: rooms, data } : { type: 'notification.broadcast', data }
    const ids = await app.publisher.publish([input], { publisher: request.user.userId, requestKey: idempotencyKey(request.headers) })
    return await reply.code(202).send({ ids })
  })
}
