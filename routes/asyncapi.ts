import type { FastifyInstance } from 'fastify'
import { asyncApiDocument } from '../src/asyncapi/document.js'
import { packageVersion } from '../src/package-version.js'

/**
 * GET /asyncapi.json: the WebSocket protocol as an AsyncAPI 3.0 document, the counterpart of
 * the OpenAPI document of the HTTP API (/docs/json), and like it open to anyone. The document
 * depends on nothing but the wire vocabulary: written once, sent as it is.
 */
export default async function asyncApiRoute (app: FastifyInstance) {
  const document = JSON.stringify(asyncApiDocument(packageVersion()))
  app.get('/asyncapi.json', {
    schema: {
      tags: ['websocket'],
      summary: 'The WebSocket protocol as an AsyncAPI 3.0 document',
      description: 'No authentication. The frames of `/ws/events` and `/ws/admin`, their replies and pushes, the error codes, and the close codes (`x-close-codes`).',
      security: [],
      response: { 200: { description: 'An AsyncAPI 3.0 document', type: 'object', additionalProperties: true } }
    }
  }, async (_request, reply) => await reply.type('application/json; charset=utf-8').serializer((payload) => payload as string).send(document))
}
