import type { FastifyInstance } from 'fastify'

/**
 * GET /ws/health: for load balancers, no auth, cheap enough to poll every second.
 * 200 while events flow: the bus is connected and the last canary came back. 503 when Redis is
 * unreachable, the canary was lost (the instance is then re-making its subscription), or the
 * instance is shutting down (`draining`), from before it closes its first socket until it exits.
 */
export default async function healthRoute (app: FastifyInstance) {
  const startedAt = Date.now()
  app.get('/ws/health', { logLevel: 'warn', config: { public: true, servedWhileDraining: true } }, async (_request, reply) => {
    const { bus, hub, config, canary, draining } = app
    const healthy = !draining && bus.connected && canary.healthy
    return await reply.code(healthy ? 200 : 503).send({
      healthy,
      draining,
      serverId: config.serverId,
      connections: hub.size,
      bus: bus.kind,
      redisConnected: bus.kind === 'redis' ? bus.connected : null,
      canary: canary.healthy,
      busRoundTripMs: canary.lastRoundTripMs ?? null,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000)
    })
  })
}
