import { Redis } from 'ioredis'

/** One master's counters at one moment. */
export interface ShardSample {
  /** Calls so far by command name (INFO commandstats), those a script ran included. */
  calls: Record<string, number>
  /** CPU the server used so far, user and system, in µs (INFO cpu). */
  cpuMicros: number
  /**
   * What the keys take: INFO memory's used_memory less the clients' buffers and the replication
   * buffers (the backlog grows with the first megabyte written, whatever it holds).
   */
  memoryBytes: number
}

/** The command the samples are read with, left out of the counts so that reading costs nothing. */
const OWN = 'info'

function parse (info: string): ShardSample {
  const calls: Record<string, number> = {}
  let cpuSeconds = 0
  let memoryBytes = 0
  for (const line of info.split('\r\n')) {
    const memory = /^(used_memory|mem_clients_normal|mem_total_replication_buffers):(\d+)$/.exec(line)
    if (memory !== null) memoryBytes += (memory[1] === 'used_memory' ? 1 : -1) * Number(memory[2])
    const stat = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (stat !== null && stat[1] !== OWN) calls[stat[1] as string] = Number(stat[2])
    const cpu = /^used_cpu_(?:user|sys):([\d.]+)$/.exec(line)
    if (cpu !== null) cpuSeconds += Number(cpu[1])
  }
  return { calls, cpuMicros: cpuSeconds * 1e6, memoryBytes }
}

/**
 * The command counters of every master, read through one connection each opened before any
 * measure, so that connecting (its CLIENT and ready-check commands) never falls inside one.
 */
export class ShardCounters {
  private constructor (private readonly connections: readonly Redis[]) {}

  static async open (masters: readonly number[]): Promise<ShardCounters> {
    const connections = masters.map((port) => new Redis(port, '127.0.0.1', { lazyConnect: true, enableReadyCheck: false, disableClientInfo: true, maxRetriesPerRequest: 0 }))
    await Promise.all(connections.map(async (c) => { await c.connect() }))
    return new ShardCounters(connections)
  }

  /** One sample per master, in the order of `masters`. */
  async sample (): Promise<ShardSample[]> {
    return await Promise.all(this.connections.map(async (c) => parse(await c.info('commandstats', 'cpu', 'memory'))))
  }

  close (): void {
    for (const c of this.connections) c.disconnect()
  }
}

/** What changed between two samples of one master. */
export function delta (before: ShardSample, after: ShardSample): ShardSample {
  const calls: Record<string, number> = {}
  for (const [name, n] of Object.entries(after.calls)) {
    const d = n - (before.calls[name] ?? 0)
    if (d > 0) calls[name] = d
  }
  return { calls, cpuMicros: after.cpuMicros - before.cpuMicros, memoryBytes: after.memoryBytes - before.memoryBytes }
}

export const totalCalls = (sample: ShardSample): number => Object.values(sample.calls).reduce((a, b) => a + b, 0)
