import fp from 'fastify-plugin'
import { Tickets } from '../src/tickets.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Single-use WebSocket tickets in the shared store, valid for TICKET_TTL. */
    tickets: Tickets
  }
}

export default fp(async function ticketsPlugin (app) {
  app.decorate('tickets', new Tickets(app.store, app.config.ticketTtlMs))
}, { name: 'tickets', dependencies: ['config', 'store'] })
