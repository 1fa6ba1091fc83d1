import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'

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

const Alive = Type.Object({ status: Type.Literal('ok') })

/**
 * What a probe needs to be of use to a load balancer or an orchestrator: no credential, no log
 * line per poll, and still answered while the instance drains, so it is seen to go. Probes are
 * not rate limited (the limits apply per route, to upgrades, tickets and publishing) and carry
 * no credential that could fail and count toward AUTH_FAILURE_LIMIT.
 */
const probe = { logLevel: 'warn', config: { servedWhileDraining: true } } satisfies RouteShorthandOptions

/**
 * The probes. GET /livez: the process runs and answers, whatever Redis does or whether it
 * drains; a failure calls for a restart. GET /readyz, and GET /ws/health, its older name: the
 * instance can serve, cheap enough to poll every second. 200 while events flow: the bus is
 * connected and the last canary came back. 503 when Redis is unreachable, the canary was lost
 * (the instance is then re-making its subscription), or the instance is shutting down
 * (`draining`), from before it closes its first socket until it exits. All read state the
 * instance keeps anyway: no Redis round trip per request.
 */
export default async function healthRoute (app: FastifyInstance) {
  const startedAt = Date.now()

  app.get('/livez', {
    ...probe,
    schema: {
      tags: ['operations'],
      summary: 'Liveness, for orchestrators',
      description: 'No authentication. 200 as long as the process runs and answers: also while Redis is unreachable and while the instance drains. Restart the instance when it fails.',
      security: [],
      response: { 200: { ...Alive, description: 'The process is alive' } }
    }
  }, async () => ({ status: 'ok' as const }))

  const readiness = (summary: string) => ({
    ...probe,
    schema: {
      tags: ['operations'],
      summary,
      description: 'No authentication. 503 when Redis is configured but unreachable, while missed events are refilled, when the canary did not come back, or once the instance drains.',
      security: [],
      response: { 200: { ...Health, description: 'Events flow' }, 503: { ...Health, description: 'Unhealthy or draining' } }
    }
  })
  const ready = async (_request: FastifyRequest, reply: FastifyReply) => {
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
  }
  app.get('/readyz', readiness('Readiness, for load balancers'), ready)
  app.get('/ws/health', readiness('Readiness, for load balancers (the older name of /readyz)'), ready)
}
