import fp from 'fastify-plugin'
import { type ClusterFigures, type InstanceFigures, InstanceRegistry } from '../src/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's figures. */
    instanceFigures: () => InstanceFigures
    /** Every live instance's figures; null while Redis is unreachable. */
    clusterFigures: () => Promise<ClusterFigures | null>
    /** Removes this instance's entry, the last step of shutdown (plugins/shutdown.ts); never rejects. */
    deregister: () => Promise<void>
  }
}

/** An instance entry lives this long without a refresh, so a crashed instance drops out after it. */
const REGISTRY_TTL_MS = 15_000

export default fp(async function registryPlugin (app) {
  const { hub, publisher, config, redis } = app
  const instanceFigures = (): InstanceFigures => ({
    serverId: config.serverId,
    eventsPublished: publisher.count,
    ...hub.stats(),
    busRoundTripMs: app.canary.lastRoundTripMs ?? null
  })
  app.decorate('instanceFigures', instanceFigures)

  if (redis === null) {
    app.decorate('clusterFigures', async () => {
      const own = instanceFigures()
      return { totalServers: 1, totalConnections: own.connections, servers: [own] }
    })
    app.decorate('deregister', async () => {})
    return
  }

  const registry = new InstanceRegistry(redis, config.serverId, instanceFigures, REGISTRY_TTL_MS)
  const log = app.log.child({ component: 'registry' })
  registry.start((err) => log.debug({ err }, 'registry refresh failed'))
  app.decorate('clusterFigures', async () => {
    try {
      return await registry.cluster()
    } catch (err) {
      log.warn({ err }, 'cluster figures unavailable')
      return null
    }
  })
  app.decorate('deregister', async () => {
    await registry.stop().catch((err: unknown) => log.warn({ err }, 'could not remove the registry entry'))
  })
}, { name: 'registry', dependencies: ['config', 'redis', 'hub', 'publisher', 'canary'] })
