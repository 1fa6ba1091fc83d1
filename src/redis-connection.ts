import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import type { Log } from './logging.js'
import type { RedisTarget } from './redis-target.js'

/** One Redis or a Redis Cluster: they share every command the gateway sends (ioredis's RedisCommander). */
export type RedisClient = Redis | Cluster

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

/**
 * The same roles on a cluster. A command whose node connection closed is not sent again
 * elsewhere (retryDelayOnFailover 0), for the reason above, and one refused CLUSTERDOWN fails at
 * once (retryDelayOnClusterDown 0) instead of waiting on a cluster that may stay down. MOVED,
 * ASK and TRYAGAIN are refusals before anything ran, so ioredis still follows them. The
 * subscriber holds one connection per master for sharded subscriptions (SSUBSCRIBE), which
 * ioredis makes again, and subscribes again, when the slots move.
 */
const CLUSTER_ROLE_OPTIONS: Record<'commands' | 'subscriber', ClusterOptions> = {
  commands: { enableOfflineQueue: false, retryDelayOnFailover: 0, retryDelayOnClusterDown: 0 },
  subscriber: { enableOfflineQueue: true, shardedSubscribers: true }
}

/** Reconnect forever, quickly at first, then every two seconds. */
function retryStrategy (attempt: number): number {
  return Math.min(attempt * 100, 2000)
}

const CONNECT_TIMEOUT_MS = 2000

/** `name` tells this connection from the others of its role in CLIENT LIST (`eventgate-<name>`). */
export function connectRedis (target: RedisTarget, role: keyof typeof ROLE_OPTIONS, log: Log, name: string = role): RedisClient {
  const connectionName = `eventgate-${name}`
  const redis = target.kind === 'single'
    ? new Redis(target.url, { ...ROLE_OPTIONS[role], connectionName, retryStrategy, connectTimeout: CONNECT_TIMEOUT_MS })
    : new Cluster(target.nodes, {
      ...CLUSTER_ROLE_OPTIONS[role],
      clusterRetryStrategy: retryStrategy,
      redisOptions: {
        maxRetriesPerRequest: ROLE_OPTIONS[role].maxRetriesPerRequest,
        connectionName,
        connectTimeout: CONNECT_TIMEOUT_MS,
        enableReadyCheck: false,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        ...(target.tls ? { tls: {} } : {})
      }
    })
  if (redis instanceof Cluster) connectNodesAtOnce(redis)
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
 * ioredis opens a connection to a cluster node at its first command, and while that connection
 * is being made a command connection (no offline queue) refuses every other command for the
 * node: two requests at once after a start, or after the slots moved, would fail. So each node
 * is connected as soon as the cluster knows of it, and is ready on connecting (its own ready
 * check adds nothing the cluster's did not).
 */
function connectNodesAtOnce (cluster: Cluster): void {
  cluster.on('+node', (node: Redis) => {
    if (node.status === 'wait') node.connect().catch(() => {})
  })
}

/** Whether every master's connection is up, so that no command is refused while one is made. */
function nodesReady (redis: RedisClient): boolean {
  return !(redis instanceof Cluster) || redis.nodes('master').every((node) => node.status === 'ready')
}

/**
 * Resolves once `redis` is ready, or after `timeoutMs` without failing: a Redis that is away
 * at start must not stop the gateway, but one that is merely slower than the HTTP listener
 * should not leave the first requests without limits and counters.
 */
export async function readyWithin (redis: RedisClient, timeoutMs: number): Promise<boolean> {
  const ready = (): boolean => redis.status === 'ready' && nodesReady(redis)
  if (ready()) return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs)
    // A cluster is ready before the connections to its masters are: look again at each of theirs.
    const check = (): void => { if (ready()) finish(true) }
    const nodes = new Set<Redis>()
    const onNode = (node: Redis): void => { nodes.add(node); node.on('ready', check) }
    function finish (result: boolean): void {
      clearTimeout(timer)
      redis.off('ready', check).off('+node', onNode)
      for (const node of nodes) node.off('ready', check)
      resolve(result)
    }
    redis.on('ready', check).on('+node', onNode)
    if (redis instanceof Cluster) for (const node of redis.nodes('all')) onNode(node)
  })
}
