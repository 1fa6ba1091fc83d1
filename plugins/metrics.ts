import fp from 'fastify-plugin'
import type { Registry } from '@prometheus-io/client'
import { InstanceMetrics } from '../src/instance-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's Prometheus registry: its own, so apps built in one process never share series. */
    metrics: Registry
  }
}

/** Prometheus metrics (src/instance-metrics.ts), fed by the publisher, the hub, the audit, authentications, resumes and 429 answers. */
export default fp(async function metricsPlugin (app) {
  const { hub, bus, canary, publisher, security, config, redis, revocations, messageSigning: signing } = app
  const metrics = new InstanceMetrics({
    serverId: config.serverId,
    bus,
    hub,
    canary,
    refusedFrames: () => app.refusedFrames,
    uncheckedRevocations: () => revocations.uncheckedCount,
    resumes: () => app.resumes,
    signatureRefusals: signing === undefined ? undefined : () => signing.refusals,
    redisReady: redis === null ? undefined : () => redis.status === 'ready'
  })
  publisher.onPublished((inputs) => {
    for (const input of inputs) metrics.published(input.type)
  })
  app.afterDelivery(({ event }) => { metrics.delivered(event.timestamp) })
  security.onReport((type, { reason }) => { metrics.reported(type, reason) })
  app.onAuthentication((via, refusal, seconds) => { metrics.authenticated(via, refusal, seconds) })
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 429) metrics.rateLimited(request.routeOptions.url)
  })
  app.decorate('metrics', metrics.registry)
}, { name: 'metrics', dependencies: ['config', 'message-signing', 'bus', 'hub', 'sockets', 'canary', 'publisher', 'security', 'redis', 'revocations', 'credentials'] })
