import type { AddressInfo } from 'node:net'
import fp from 'fastify-plugin'
import { startupLine } from '../src/startup-line.js'

const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::'])

/**
 * Once listening, one line says in words where the gateway is and what it runs on
 * (src/startup-line.ts); a warning when it accepts tokens anyone can sign, so that one stands
 * out at LOG_LEVEL=warn too.
 */
export default fp(async function startupPlugin (app) {
  const { config } = app
  app.addHook('onListen', async () => {
    const address = app.server.address()
    if (address === null || typeof address === 'string') return
    const everyInterface = WILDCARDS.has(address.address)
    const url = `http${config.tls === undefined ? '' : 's'}://${hostFor(address, everyInterface)}:${address.port}`
    const line = startupLine({ url, everyInterface, redis: config.redis, developmentKey: config.jwt.development })
    const bus = config.redis === undefined ? 'memory' : config.redis.kind === 'cluster' ? 'redis-cluster' : 'redis'
    const fields = { url, bus, dashboard: `${url}/dashboard`, docs: `${url}/docs` }
    if (config.jwt.development) app.log.warn(fields, line)
    else app.log.info(fields, line)
  })
}, { name: 'startup', dependencies: ['config'] })

function hostFor ({ address, family }: AddressInfo, everyInterface: boolean): string {
  if (everyInterface) return 'localhost'
  return family === 'IPv6' ? `[${address}]` : address
}
