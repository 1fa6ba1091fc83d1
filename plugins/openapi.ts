import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { packageVersion } from '../src/package-version.js'

/**
 * The OpenAPI document, built from the schemas the routes validate with, so it cannot drift
 * from what the gateway accepts: `/docs` (Swagger UI) and `/docs/json`. Registered before the
 * routes, whose definitions it collects as they are added.
 */
export default fp(async function openapiPlugin (app) {
  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema, so the publish body's if/then/else appears as it validates.
      openapi: '3.1.0',
      info: {
        title: 'eventgate',
        version: packageVersion(),
        description: 'Backend services publish events over HTTP; dashboards and apps subscribe over WebSocket (`/ws/events`, `/ws/admin`) to wildcard event types. The WebSocket protocol and close codes are in docs/protocol.md, the limits in docs/operations.md.'
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'access_token', description: 'WebSocket upgrades only: HTTP requests ignore it, since any site can make a browser send it' },
          accessTokenCookie: { type: 'apiKey', in: 'cookie', name: 'accessToken', description: 'The same as the access_token cookie, which wins when both are sent' },
          ticket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'WebSocket upgrades only: a single-use ticket from POST /ws/ticket' },
          queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'WebSocket upgrades: the JWT in the URL, the least safe choice' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when it is set' }
        }
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'publishing', description: 'Events and notifications from backend services' },
        { name: 'sessions', description: 'Revocations' },
        { name: 'websocket', description: 'Upgrades to event streams, and what browsers need to open them' },
        { name: 'operations', description: 'Health, figures and metrics' }
      ]
    },
    // @fastify/websocket hides its routes from the document; the upgrades are the API's other
    // half, described by their route schemas.
    transform: ({ schema, url, route }) => ({ schema: route.websocket === true ? { ...schema, hide: false } : schema, url })
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Swagger UI's policy upgrades every request to https, which breaks the UI on a plain-http
    // development gateway; TLS, where it matters, is the gateway's or its proxy's.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '')
  })
}, { name: 'openapi' })
