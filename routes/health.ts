import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'

const Health = Type.Object({
  healthy: Type.Boolean(),
  draining: Type.Boolean(),
  serverId: Type.String(),
  connections: Type.Integer(),
  bus: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
  redisConnected: Type.Union([Type.Boolean(), Type.Null()], { description: 'null on the in-memory bus' }),
  canary: Type.Boolean(),
  busRoundTripMs: Type.Union([Type.Number(), Type.Null()], { description: 'the last canary\'s publish→receive time; null before the first' }),
  uptimeSeconds: Type.Integer()
})

/**
 * GET /ws/health: for load balancers, no auth, cheap enough to poll every second.
 * 200 while events flow: the bus is connected and the last canary came back. 503 when Redis is
 * unreachable, the canary was lost (the instance is then re-making its subscription), or the
 * instance is shutting down (`draining`), from before it closes its first socket until it exits.
 */
export default async function healthRoute (app: FastifyInstance) {
  const startedAt = Date.now()
  app.get('/ws/health', {
    logLevel: 'warn',
    config: { servedWhileDraining: true },
    schema: {
      tags: ['operations'],
      summary: 'Health, for load balancers',
      description: 'No authentication. 503 when Redis is configured but unreachable, while missed events are refilled, when the canary did not come back, or once the instance drains.',
      security: [],
      response: { 200: { ...Health, description: 'Events flow' }, 503: { ...Health, description: 'Unhealthy or draining' } }
    }
  }, async (_request, reply) => {
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
