import fp from 'fastify-plugin'
import { GatewayError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * True from the first step of shutdown (`app.close()`, SIGTERM, SIGINT) on: health answers
     * 503 and every new request but the health check, WebSocket upgrades included, is refused.
     */
    readonly draining: boolean
    /** The first step of shutdown (plugins/shutdown.ts): `draining` from now on. */
    startDraining: () => void
  }
  interface FastifyContextConfig {
    /** Still served while the instance drains: the health check, so balancers see it go. */
    servedWhileDraining?: boolean
  }
}

/** Seconds a refused client should wait; by then the balancer has taken this instance out. */
const DRAIN_RETRY_AFTER_SECONDS = 1

/**
 * The draining state, in one place. Fastify's own 503 while closing (`return503OnClosing`) is
 * off in `buildApp`: its body is not the catalogue's, and it would answer health checks too.
 */
export default fp(async function drainPlugin (app) {
  let draining = false
  app.decorate('draining', { getter: () => draining })
  app.decorate('startDraining', () => {
    draining = true
    app.log.info('draining: health answers 503, new requests and upgrades are refused')
  })

  // preParsing rather than onRequest: @fastify/websocket's onRequest hook has run, so the socket
  // of a refused upgrade is destroyed with its response; and no body is read, no socket exists.
  // A request that got past this point before the drain (an in-flight publish) is completed.
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (!draining || request.routeOptions.config.servedWhileDraining === true) {
      done(null, payload)
      return
    }
    void reply.header('retry-after', String(DRAIN_RETRY_AFTER_SECONDS))
    done(new GatewayError('EVENTGATE_DRAINING', 'this instance is shutting down; retry on another'))
  })

  // Node's server.close() waits for every connection to end, and a keep-alive one only ends
  // after Fastify's keepAliveTimeout (72 s): every response sent while draining closes its own.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'drain' })
