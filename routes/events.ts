import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { canPublish } from '../src/identity.js'
import { Accepted, assertDataSize, BODY_LIMIT_BYTES, errorResponses, type EventBatch, groupsOf, idempotencyKey, PublishBody, PublishHeaders } from './schemas.js'

/**
 * POST /events: backend services publish one event or a batch. The gateway assigns `id`
 * and `timestamp` and answers 202 with the ids, in the order given, once the events are in the
 * history. A retry with the same `Idempotency-Key` header (or per-event `idempotencyKey`)
 * within IDEMPOTENCY_TTL gets the same ids and publishes nothing again.
 */
export default async function eventsRoutes (app: FastifyInstance) {
  app.post<{ Body: Static<typeof PublishBody> }>('/events', {
    bodyLimit: BODY_LIMIT_BYTES,
    schema: {
      tags: ['publishing'],
      summary: 'Publish one event, or a batch of 1 to 100',
      description: 'Role `service` or `admin`, or permission `events:publish`. Without `userId`, `groups` or `room` an event is a broadcast; with `groups` (or `room`) it goes to those rooms\' members, and to `userId` too when given. The gateway assigns `id` and `timestamp`; a batch is written whole or not at all. A retry with the same `Idempotency-Key` (or per-event `idempotencyKey`) within IDEMPOTENCY_TTL gets the same ids and publishes nothing again.',
      body: PublishBody,
      headers: PublishHeaders,
      response: { 202: { ...Accepted, description: 'The events are in the history: their ids, in the order given' }, ...errorResponses(400, 401, 403, 413, 429, 503) }
    },
    config: { rateLimit: app.rateLimits.publish },
    onRequest: [app.authenticate, app.authorize(canPublish, 'publishing needs role service or admin, or permission events:publish')]
  }, async (request, reply) => {
    const { body } = request
    const batch = 'events' in body
    const inputs = batch ? (body as Static<typeof EventBatch>).events : [body]
    const events = inputs.map(({ room, groups, ...input }, i) => {
      const prefix = batch ? `events.${i}.` : ''
      assertDataSize(input.data, `${prefix}data`, app.config.maxDataBytes)
      const rooms = groupsOf({ room, groups }, prefix)
      return rooms === undefined ? input : { ...input, groups: rooms }
    })
    const ids = await app.publisher.publish(events, { publisher: request.user.userId, requestKey: idempotencyKey(request.headers) })
    return await reply.code(202).send({ ids })
  })
}
