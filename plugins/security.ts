import fp from 'fastify-plugin'
import { SecurityReporter } from '../src/security.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Audit records, also published as admin-only `security.*` events. */
    security: SecurityReporter
  }
}

export default fp(async function securityPlugin (app) {
  const { bus, config } = app
  const reporter = new SecurityReporter(
    bus,
    app.log.child({ component: 'audit' }),
    config.serverId,
    config.securityEventsPerSecond,
    config.auditRepeats
  )
  app.decorate('security', reporter)
  app.addHook('onClose', async () => { reporter.close() })
}, { name: 'security', dependencies: ['config', 'bus'] })
