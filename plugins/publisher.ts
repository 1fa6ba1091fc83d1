import fp from 'fastify-plugin'
import { Publisher } from '../src/publisher.js'

declare module 'fastify' {
  interface FastifyInstance {
    publisher: Publisher
  }
}

export default fp(async function publisherPlugin (app) {
  app.decorate('publisher', new Publisher(app.bus, app.config.idempotencyTtlMs))
}, { name: 'publisher', dependencies: ['bus'] })
