import cors from '@fastify/cors'
import type {} from '@fastify/websocket'
import fp from 'fastify-plugin'
import { GatewayError } from '../src/errors.js'
import { originMatcher } from '../src/origins.js'

/**
 * One origin list for both doors: CORS on the HTTP API, and a check before any WebSocket
 * upgrade, since browsers send cookies cross-site on upgrades (cross-site WebSocket hijacking).
 * Requests without Origin come from servers, not browsers, and pass.
 */
export default fp(async function originsPlugin (app) {
  const allowed = originMatcher(app.config.allowedOrigins)
  await app.register(cors, {
    origin: (origin, callback) => { callback(null, origin === undefined || allowed(origin)) },
    credentials: true,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    // A page can quote the id of a failed request, which names its log lines.
    exposedHeaders: ['X-Request-Id']
  })
  // Runs after @fastify/websocket's own onRequest hook, which marks upgrade requests.
  app.addHook('onRequest', async (request) => {
    const { origin } = request.headers
    if (!request.ws || origin === undefined || allowed(origin) || sameOrigin(origin, request.host)) return
    app.security.report('security.origin.rejected', { reason: 'origin_not_allowed', origin, ip: request.ip, userAgent: request.headers['user-agent'] })
    throw new GatewayError('EVENTGATE_ORIGIN_REJECTED', `origin ${origin} is not allowed`)
  })
}, { name: 'origins', dependencies: ['config', 'websocket', 'security'] })

/**
 * A page served by the gateway itself (the dashboard) connects from the gateway's own origin:
 * the host the browser addressed, which a page on another site cannot make its Origin.
 */
function sameOrigin (origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}
