import { Redis, type RedisOptions } from 'ioredis'
import type { Log } from './logging.js'

/**
 * The two kinds of Redis connection. Commands fail fast while Redis is away, so a publisher
 * gets an answer instead of a hung request; the subscriber keeps its SUBSCRIBE queued until
 * Redis is back and resubscribes after every reconnect.
 *
 * Commands in flight when the connection drops fail at once (maxRetriesPerRequest 0): Redis may
 * have run them before the drop, and ioredis would otherwise send them again after the first
 * reconnect, running a publish (or an INCR) twice behind one 202.
 */
const ROLE_OPTIONS: Record<'commands' | 'subscriber', RedisOptions> = {
  commands: { enableOfflineQueue: false, maxRetriesPerRequest: 0 },
  subscriber: { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true }
}

/** Reconnect forever, quickly at first, then every two seconds. */
function retryStrategy (attempt: number): number {
  return Math.min(attempt * 100, 2000)
}

export function connectRedis (url: string, role: keyof typeof ROLE_OPTIONS, log: Log): Redis {
  const redis = new Redis(url, {
    ...ROLE_OPTIONS[role],
    connectionName: `eventgate-${role}`,
    retryStrategy,
    connectTimeout: 2000
  })
  let reachable = true
  // ioredis emits an error on every failed reconnect; one line per outage is enough.
  redis.on('error', (err: Error) => {
    if (!reachable) return
    reachable = false
    log.warn({ err, role }, 'redis unreachable, reconnecting')
  })
  redis.on('ready', () => {
    reachable = true
    log.info({ role }, 'redis connected')
  })
  return redis
}

/**
 * Resolves once `redis` is ready, or after `timeoutMs` without failing: a Redis that is away
 * at start must not stop the gateway, but one that is merely slower than the HTTP listener
 * should not leave the first requests without limits and counters.
 */
export async function readyWithin (redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs)
    const onReady = (): void => finish(true)
    function finish (ready: boolean): void {
      clearTimeout(timer)
      redis.off('ready', onReady)
      resolve(ready)
    }
    redis.once('ready', onReady)
  })
}
