import Fastify, { type FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import authFailuresPlugin from './plugins/auth-failures.js'
import authPlugin from './plugins/auth.js'
import busPlugin from './plugins/bus.js'
import canaryPlugin from './plugins/canary.js'
import configPlugin from './plugins/config.js'
import credentialsPlugin from './plugins/credentials.js'
import drainPlugin from './plugins/drain.js'
import errorsPlugin from './plugins/errors.js'
import hubPlugin from './plugins/hub.js'
import lifecyclePlugin from './plugins/lifecycle.js'
import messageSigningPlugin from './plugins/message-signing.js'
import metricsPlugin from './plugins/metrics.js'
import openapiPlugin from './plugins/openapi.js'
import originsPlugin from './plugins/origins.js'
import publisherPlugin from './plugins/publisher.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import redisPlugin from './plugins/redis.js'
import registryPlugin from './plugins/registry.js'
import requestIdPlugin from './plugins/request-id.js'
import revocationEnforcementPlugin from './plugins/revocation-enforcement.js'
import revocationsPlugin from './plugins/revocations.js'
import securityPlugin from './plugins/security.js'
import shutdownPlugin from './plugins/shutdown.js'
import socketAuthPlugin from './plugins/socket-auth.js'
import socketSessionsPlugin from './plugins/socket-sessions.js'
import socketsPlugin from './plugins/sockets.js'
import startupPlugin from './plugins/startup.js'
import storePlugin from './plugins/store.js'
import ticketsPlugin from './plugins/tickets.js'
import upgradesPlugin from './plugins/upgrades.js'
import websocketPlugin from './plugins/websocket.js'
import asyncApiRoute from './routes/asyncapi.js'
import clientScriptRoute from './routes/client-script.js'
import dashboardRoutes from './routes/dashboard.js'
import eventsRoutes from './routes/events.js'
import metricsRoute from './routes/metrics.js'
import notificationsRoutes from './routes/notifications.js'
import sessionsRoutes from './routes/sessions.js'
import statsRoute from './routes/stats.js'
import adminStream from './routes/ws/admin.js'
import eventsStream from './routes/ws/events.js'
import healthRoute from './routes/health.js'
import indexRoute from './routes/index.js'
import ticketRoute from './routes/ticket.js'
import type { Config } from './src/config.js'
import { MAX_USER_OR_SESSION_ID_LENGTH } from './src/events.js'
import { loggerOptions } from './src/logging.js'
import { REQUEST_ID_HEADER, requestId } from './src/request-id.js'

export interface BuildOptions {
  /** Where log lines go (default: stdout). */
  logStream?: DestinationStream
}

/** The one way to build the gateway: `npm start`, the tests and the scripts all come here. */
export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { ...loggerOptions(config.logLevel, config.serverId), ...(options.logStream === undefined ? {} : { stream: options.logStream }) },
    // Fastify's `requestIdHeader` would take any header value as it comes; src/request-id.ts
    // takes only a sane one.
    genReqId: (request) => requestId(request.headers[REQUEST_ID_HEADER]),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Path ids (`/sessions/:sessionId/revoke`) are checked by their schema, up to
    // MAX_USER_OR_SESSION_ID_LENGTH characters; the router measures them percent-encoded: up to
    // 12 bytes a character.
    routerOptions: { maxParamLength: 12 * MAX_USER_OR_SESSION_ID_LENGTH },
    trustProxy: config.trustProxy,
    // Shutdown is answered by plugins/drain.ts: health keeps answering (503, `draining`), and
    // refusals carry the catalogue's body and Retry-After.
    return503OnClosing: false,
    ...timeouts(config),
    // TLS_CERT/TLS_KEY: HTTPS and WSS on the same port. The https server hands Fastify the same
    // request and response objects as http's, so the instance keeps its default type.
    ...(config.tls === undefined ? { http: serverOptions(config) } : { https: { ...config.tls, ...serverOptions(config) } })
  })
  // Node refuses connections past it at once. Upgraded WebSockets count: it is above
  // WEBSOCKET_MAX_CONNECTIONS, and bounds what idle or stalled connections can hold.
  app.server.maxConnections = config.http.maxConnections
  warnAboutTransport(app, config)
  await app.register(configPlugin, { config })
  await app.register(requestIdPlugin)
  await app.register(errorsPlugin)
  await app.register(drainPlugin)
  await app.register(redisPlugin)
  await app.register(busPlugin)
  await app.register(publisherPlugin)
  await app.register(storePlugin)
  await app.register(messageSigningPlugin)
  await app.register(securityPlugin)
  await app.register(authFailuresPlugin)
  await app.register(ticketsPlugin)
  await app.register(revocationsPlugin)
  await app.register(credentialsPlugin)
  await app.register(authPlugin)
  await app.register(socketAuthPlugin)
  await app.register(hubPlugin)
  await app.register(socketSessionsPlugin)
  await app.register(socketsPlugin)
  await app.register(upgradesPlugin)
  await app.register(revocationEnforcementPlugin)
  await app.register(canaryPlugin)
  await app.register(lifecyclePlugin)
  await app.register(registryPlugin)
  await app.register(shutdownPlugin)
  await app.register(websocketPlugin)
  await app.register(originsPlugin)
  await app.register(rateLimitPlugin)
  await app.register(metricsPlugin)
  await app.register(openapiPlugin)
  await app.register(startupPlugin)

  await app.register(indexRoute)
  await app.register(eventsStream)
  await app.register(adminStream)
  await app.register(healthRoute)
  await app.register(eventsRoutes)
  await app.register(notificationsRoutes)
  await app.register(statsRoute)
  await app.register(ticketRoute)
  await app.register(sessionsRoutes)
  await app.register(metricsRoute)
  await app.register(dashboardRoutes)
  await app.register(clientScriptRoute)
  await app.register(asyncApiRoute)
  return app
}

/**
 * Nothing a client leaves unfinished is held for good. HTTP_REQUEST_TIMEOUT: the whole request,
 * headers and body, must arrive in time (a stalled upload is answered 408 and closed).
 * HTTP_IDLE_TIMEOUT: a connection silent that long while a request is due, as one that never
 * sends one or never upgrades, is closed. Between keep-alive requests Fastify's
 * keepAliveTimeout (72 s, above the 60 s idle timeout of common load balancers) applies
 * instead. An upgraded socket leaves all three: ws clears its timeout, and its heartbeat
 * watches it from then on.
 */
function timeouts (config: Config): { requestTimeout: number, connectionTimeout: number } {
  return { requestTimeout: config.http.requestTimeoutMs, connectionTimeout: config.http.idleTimeoutMs }
}

/**
 * Node checks requests against their deadline on an interval, 30 s by default: a tenth of the
 * timeout keeps a stalled upload from outliving it by much, for a walk of the requests in
 * flight only.
 */
function serverOptions (config: Config): { requestTimeout: number, connectionsCheckingInterval: number } {
  const { requestTimeoutMs } = config.http
  return { requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.ceil(requestTimeoutMs / 10) }
}

function warnAboutTransport (app: FastifyInstance, config: Config): void {
  if (config.nodeEnv === 'production' && config.tls === undefined && config.trustProxy === false) {
    app.log.warn('no TLS_CERT/TLS_KEY and no TRUST_PROXY: HTTP and WebSocket traffic, tokens included, travel in clear text unless a TLS proxy is in front')
  }
}
