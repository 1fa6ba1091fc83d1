import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import type { Teardown } from '../../harness/teardown.js'
import { type Gateway, startGateway } from './gateway.js'

/**
 * The refusals these tests provoke on purpose all come from 127.0.0.1; the brute-force and
 * upgrade limits would otherwise block the address halfway through a test.
 */
export const LENIENT_LIMITS = { AUTH_FAILURE_LIMIT: '10000', RATE_LIMIT_UPGRADES: '10000' }

/** Two gateways, `a` and `b`, on a redis-server of the test's own, once both reach it. */
export async function startPair (t: Teardown, env: Record<string, string> = {}): Promise<{ a: Gateway, b: Gateway, redis: RedisServer }> {
  const redis = await RedisServer.start(t)
  const shared = { REDIS_URL: redis.url, ...LENIENT_LIMITS, ...env }
  const a = await startGateway(t, { ...shared, SERVER_ID: 'a' })
  const b = await startGateway(t, { ...shared, SERVER_ID: 'b' })
  await until(() => a.app.bus.connected && b.app.bus.connected, 10_000, 'both gateways to reach Redis')
  return { a, b, redis }
}
