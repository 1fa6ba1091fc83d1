import { execFile } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'

/**
 * Joining running `redis-server --cluster-enabled yes` nodes into one Redis Cluster and waiting
 * until it serves. `npm run cluster -- --redis-cluster`, the benchmark and the tests' cluster start
 * their nodes each their own way (the script's in process groups it stops in order, the tests' as
 * servers a test can kill and restart) and share this step, which needs nothing but Node, ioredis
 * and redis-cli.
 */

const SLOTS = 16384
const POLL_MS = 50

const run = promisify(execFile)

/**
 * Makes the nodes on `ports` (127.0.0.1) one cluster with a replica for each master, as
 * `redis-cli --cluster create` assigns them, and resolves once every node says the cluster is
 * ok, with every slot served and every node known, and every replica linked to its master
 * (a failover needs a replica that has the data). Rejects after `timeoutMs`.
 */
export async function joinCluster (ports: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: timeoutMs })
  while (!(await Promise.all(ports.map(async (port) => await settled(port, ports.length)))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error(`the cluster on ${ports.join(', ')} did not settle within ${timeoutMs} ms`)
    await delay(POLL_MS)
  }
}

/** Whether the node on `port` serves: cluster ok, every slot, `nodes` known, a replica linked. */
export async function settled (port: number, nodes: number): Promise<boolean> {
  const info = await ask(port, ['CLUSTER', 'INFO'])
  if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_ok:${SLOTS}`) || !info.includes(`cluster_known_nodes:${nodes}`)) return false
  const [kind, , , state] = (await ask(port, ['ROLE'])).split('\n')
  return kind === 'master' || state === 'connected'
}

/** One command on a short-lived plain connection; the reply flattened to lines. */
export async function ask (port: number, command: readonly [string, ...string[]]): Promise<string> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await redis.connect()
    const reply = await redis.call(...command)
    return Array.isArray(reply) ? reply.flat(3).map(String).join('\n') : String(reply)
  } finally {
    redis.disconnect()
  }
}
