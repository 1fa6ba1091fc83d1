import { ask, joinCluster } from '../../scripts/redis-cluster.js'
import { RedisServer } from './redis.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Three masters with a replica each: the smallest cluster that can lose a master and go on. */
const MASTERS = 3
const NODES = MASTERS * 2

/**
 * A real Redis Cluster of the test's own: six `redis-server --cluster-enabled yes` on free ports,
 * joined by `redis-cli --cluster create`, every node torn down with the test. Start one per test
 * file and share it: a start costs a few seconds of the machine's few cores.
 */
export class RedisCluster {
  private constructor (readonly nodes: readonly RedisServer[], readonly masters: readonly RedisServer[], readonly replicas: readonly RedisServer[]) {}

  static async start (t: Teardown): Promise<RedisCluster> {
    // A short node timeout keeps a later failover test quick; 2 s still rides out a loaded machine.
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']
    const nodes = await Promise.all(Array.from({ length: NODES }, async () => await RedisServer.start(t, { args })))
    await joinCluster(nodes.map((n) => n.port), 20_000)
    const roles = await Promise.all(nodes.map(role))
    return new RedisCluster(nodes, nodes.filter((_, i) => roles[i] === 'master'), nodes.filter((_, i) => roles[i] === 'slave'))
  }

  /** The seeds as REDIS_CLUSTER_NODES takes them: `127.0.0.1:p1,127.0.0.1:p2,…`. */
  get seeds (): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')
  }

  /** Kills one node as a crash would (SIGKILL). */
  async kill (node: RedisServer): Promise<void> {
    await node.stop()
  }

  /** Kills every node: the cluster is unreachable. */
  async stop (): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => await n.stop()))
  }
}

async function role (node: RedisServer): Promise<string> {
  return (await ask(node.port, ['ROLE'])).split('\n')[0] ?? ''
}
