import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './src/config.js'
import { gracefulExit } from './src/graceful-exit.js'
import { listenFailure } from './src/listen-failure.js'

let config
try {
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  // One line per bad variable, so each reads and greps on its own.
  for (const { variable, message } of err.problems) process.stderr.write(`eventgate: invalid configuration: ${variable}: ${message}\n`)
  process.exit(1)
}

const app = await buildApp(config)
const { stop } = gracefulExit(process, { timeoutMs: config.shutdownTimeoutMs, log: app.log, close: async () => { await app.close() } })

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  const failure = listenFailure(err, config)
  if (failure === undefined) throw err
  process.stderr.write(`eventgate: cannot listen: ${failure}\n`)
  stop(1)
}
