import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './src/config.js'

let config
try {
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`eventgate: invalid configuration: ${err.message}\n`)
  process.exit(1)
}

const app = await buildApp(config)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down')
    // A close can hang (a client that never answers its close frame, a request that never
    // ends): SHUTDOWN_TIMEOUT bounds it.
    setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out')
      process.exit(1)
    }, config.shutdownTimeoutMs)
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  })
}

await app.listen({ port: config.port, host: config.host })
