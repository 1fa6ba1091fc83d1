import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask, joinCluster } from '../harness/redis-cluster.js'
import { freePorts, type RedisSide, redisServer, stop } from './servers.js'

/** Three masters with a replica each, as `npm run cluster -- --redis-cluster` and the tests start. */
const NODES = 6
/**
 * Redis's default: a node the loaded machine leaves unscheduled for a few seconds must not be
 * taken for dead, as a failover in the middle of a measure would spoil it.
 */
const NODE_TIMEOUT_MS = 15_000
const JOIN_TIMEOUT_MS = 60_000

/**
 * A Redis Cluster of the benchmark's own: six nodes on free loopback ports, their files in one
 * temporary directory, joined by the same step as the tests' cluster. Each node's cluster bus
 * port is picked free as well: Redis would otherwise take its port + 10,000, which may be taken.
 */
export class BenchCluster implements RedisSide {
  private constructor (readonly nodes: readonly number[], readonly masters: readonly number[], private readonly dir: string, private readonly children: readonly ChildProcess[]) {}

  static async start (): Promise<BenchCluster> {
    const ports = await freePorts(NODES * 2)
    const nodes = ports.slice(0, NODES)
    const dir = mkdtempSync(join(tmpdir(), 'eventgate-bench-cluster-'))
    const started = await Promise.allSettled(nodes.map(async (port, i) => await redisServer(port, dir, [
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-port', String(ports[NODES + i]), '--cluster-node-timeout', String(NODE_TIMEOUT_MS)
    ])))
    const children = started.flatMap((s) => s.status === 'fulfilled' ? [s.value] : [])
    try {
      const refused = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
      if (refused !== undefined) throw refused.reason
      await joinCluster(nodes, JOIN_TIMEOUT_MS)
      const roles = await Promise.all(nodes.map(async (port) => await ask(port, ['ROLE'])))
      return new BenchCluster(nodes, nodes.filter((_, i) => roles[i]?.startsWith('master') === true), dir, children)
    } catch (err) {
      await Promise.all(children.map(stop))
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }

  get env (): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.nodes.map((port) => `127.0.0.1:${port}`).join(',') }
  }

  async flush (): Promise<void> {
    await Promise.all(this.masters.map(async (port) => await ask(port, ['FLUSHALL'])))
  }

  async stop (): Promise<void> {
    await Promise.all(this.children.map(stop))
    rmSync(this.dir, { recursive: true, force: true })
  }
}
