import { buildApp } from '../app.js'
import { loadConfig } from '../src/config.js'
import { BENCH_SECRET } from './auth.js'
import { announce, startControl } from './control.js'

/**
 * eventgate as `npm start` builds it (buildApp), on REDIS_URL or REDIS_CLUSTER_NODES, with the
 * limits a load test would trip on its own lifted: every client comes from a few loopback
 * addresses and one publisher. Logging is at `warn`: the baselines log nothing, and per-request
 * lines would measure pino. REDIS_PARTITIONS is passed on as the runner was given it, so that a
 * rerun after a change of the partition count measures what it says.
 */
const config = loadConfig({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  REDIS_URL: process.env.REDIS_URL,
  REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES,
  REDIS_PARTITIONS: process.env.REDIS_PARTITIONS,
  JWT_SECRET: BENCH_SECRET,
  // Nothing scrapes it, and it listens on the loopback only.
  METRICS_PUBLIC: 'true',
  LOG_LEVEL: 'warn',
  TRUST_PROXY: '127.0.0.1',
  WEBSOCKET_MAX_CONNECTIONS: '100000',
  RATE_LIMIT_UPGRADES: '100000000',
  RATE_LIMIT_PUBLISH: '100000000',
  AUTH_FAILURE_LIMIT: '100000000'
})
const app = await buildApp(config)
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (typeof address !== 'object' || address === null) throw new Error('eventgate has no address')
announce(address.port, await startControl())
