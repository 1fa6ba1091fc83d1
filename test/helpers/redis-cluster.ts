import { until } from '../../harness/ports.js'
import { ask, joinCluster, settled } from '../../harness/redis-cluster.js'
import { RedisServer } from '../../harness/redis.js'
import type { Teardown } from '../../harness/teardown.js'

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

  /** The master that serves `key`'s slot now, as the surviving nodes see it. */
  async masterOf (key: string): Promise<RedisServer> {
    const live = this.nodes.filter((n) => n.running)
    const slot = Number(await ask((live[0] as RedisServer).port, ['CLUSTER', 'KEYSLOT', key]))
    const port = ownerPort(await ask((live[0] as RedisServer).port, ['CLUSTER', 'NODES']), slot)
    const owner = live.find((n) => n.port === port)
    if (owner === undefined) throw new Error(`no live master serves slot ${slot}`)
    return owner
  }

  /**
   * Resolves once every running node says the cluster is ok and that a live master serves `key`:
   * after a master's death, once its replica was promoted.
   */
  async servesAgain (key: string, timeoutMs: number): Promise<RedisServer> {
    await until(async () => {
      const live = this.nodes.filter((n) => n.running)
      const infos = await Promise.all(live.map(async (n) => await ask(n.port, ['CLUSTER', 'INFO']).catch(() => '')))
      if (!infos.every((info) => info.includes('cluster_state:ok'))) return false
      return await this.masterOf(key).then(() => true, () => false)
    }, timeoutMs, `a live master to serve ${key}`)
    return await this.masterOf(key)
  }

  /** Starts a killed node again on its own config: it rejoins, as a replica of whoever took its slots. */
  async rejoin (node: RedisServer, timeoutMs: number): Promise<void> {
    await node.start()
    await until(async () => await settled(node.port, NODES).catch(() => false) && await role(node) === 'slave', timeoutMs, 'the node to rejoin as a synced replica')
  }

  /** Kills every node: the cluster is unreachable. */
  async stop (): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => await n.stop()))
  }
}

/** The port of the master `CLUSTER NODES` lists as serving `slot` (not one marked failed). */
function ownerPort (nodes: string, slot: number): number | undefined {
  for (const line of nodes.split('\n')) {
    const [, address, flags, , , , , , ...slots] = line.split(' ')
    if (flags === undefined || !flags.includes('master') || flags.includes('fail')) continue
    for (const range of slots) {
      const [from, to = from] = range.split('-').map(Number)
      if (from !== undefined && to !== undefined && slot >= from && slot <= to) return Number(address?.split(/[:@]/)[1])
    }
  }
  return undefined
}

async function role (node: RedisServer): Promise<string> {
  return (await ask(node.port, ['ROLE'])).split('\n')[0] ?? ''
}
