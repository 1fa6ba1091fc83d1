import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { BusUnavailableError } from '../src/bus/bus.js'
import { isoOrNull } from '../src/token-lifecycle.js'
import { errorResponses } from './schemas.js'

const Ticket = Type.Object({ ticket: Type.String(), expiresAt: Type.String() })

/**
 * POST /ws/ticket: the browser-safe way onto a WebSocket. Authenticated with the user's JWT,
 * it answers a single-use ticket for `?ticket=` on an upgrade, valid for TICKET_TTL (never
 * beyond the token's `exp`) on any instance.
 */
export default async function ticketRoute (app: FastifyInstance) {
  app.post('/ws/ticket', {
    schema: {
      tags: ['websocket'],
      summary: 'Trade a JWT for a single-use WebSocket ticket',
      description: 'Any valid token, no body. The ticket opens one socket once, on any instance (`/ws/events?ticket=…`), within TICKET_TTL and never beyond the token\'s `exp`. Limited per user like upgrades.',
      response: { 200: { ...Ticket, description: 'A ticket, with `Cache-Control: no-store`' }, ...errorResponses(401, 429, 503) }
    },
    // Each ticket holds a store entry for TICKET_TTL: limited like the upgrades it leads to.
    config: { rateLimit: app.rateLimits.upgrade },
    onRequest: app.authenticate
  }, async (request, reply) => {
    const { ticket, expiresAt } = await app.tickets.issue(request.user).catch((err: unknown) => {
      throw new BusUnavailableError(`the shared store is unreachable: ${(err as Error).message}`)
    })
    // A credential: no cache on the way may keep it.
    return await reply.header('cache-control', 'no-store').send({ ticket, expiresAt: isoOrNull(expiresAt) })
  })
}
