import fp from 'fastify-plugin'
import { Canary } from '../src/canary.js'

declare module 'fastify' {
  interface FastifyInstance {
    canary: Canary
  }
}

export default fp(async function canaryPlugin (app) {
  const canary = new Canary(app.bus, app.config.canaryIntervalMs, app.log.child({ component: 'canary' }))
  app.decorate('canary', canary)
  canary.start()
  app.addHook('onClose', async () => { canary.stop() })
}, { name: 'canary', dependencies: ['config', 'bus', 'hub'] })
