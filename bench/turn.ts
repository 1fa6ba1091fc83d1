import type { ChildProcess } from 'node:child_process'
import type { ContenderName } from './clients.js'
import { emptyResult, type ScenarioResult, type Sizes } from './lab.js'
import type { LoadJob } from './loadgen.js'
import type { ScenarioName } from './scenarios.js'
import { type RedisSide, spawnNode, startInstance, stop } from './servers.js'

const INSTANCES = 2
const TURN_TIMEOUT_MS = 600_000

export interface TurnOrder {
  contender: ContenderName
  group: ScenarioName[]
  redis: RedisSide
  /** Given to each instance beside where Redis is. */
  env: Record<string, string>
  sizes: Sizes
  /** Handshakes in flight at once while connecting. */
  concurrency: number
  log: (line: string) => void
  done: (name: ScenarioName, result: ScenarioResult) => void
}

/**
 * One turn: fresh instances of the contender on an emptied Redis, one load generator, the
 * group's scenarios. Every process it starts is in `children` while it runs, for the runner to
 * stop on a signal. A turn that fails fails its scenarios not yet reported.
 */
export async function runTurn (order: TurnOrder, children: Set<ChildProcess>): Promise<void> {
  const { contender, group, redis, log, done } = order
  const pending = new Set(group)
  await redis.flush()
  // The load generator starts alongside the instances: it only waits for its job.
  const loadgen = await spawnNode(['--import', 'tsx', 'bench/loadgen.ts'], {})
  children.add(loadgen)
  const started = await Promise.allSettled(Array.from({ length: INSTANCES }, async () => {
    const instance = await startInstance(contender, { ...redis.env, ...order.env })
    children.add(instance.child)
    return instance
  }))
  const instances = started.flatMap((s) => s.status === 'fulfilled' ? [s.value] : [])
  try {
    const refused = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (refused !== undefined) throw refused.reason
    const job: LoadJob = {
      contender,
      scenarios: group,
      servers: instances.map(({ port, controlPort, child }) => ({ port, controlPort, pid: child.pid ?? 0 })),
      redis: { nodes: redis.nodes, masters: redis.masters },
      sizes: order.sizes,
      concurrency: order.concurrency
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), TURN_TIMEOUT_MS)
      loadgen.on('message', (message: { log?: string, scenario?: ScenarioName, result?: ScenarioResult, done?: boolean }) => {
        if (message.log !== undefined) log(message.log)
        if (message.scenario !== undefined && message.result !== undefined) {
          pending.delete(message.scenario)
          done(message.scenario, message.result)
        }
        if (message.done !== true) return
        clearTimeout(timer)
        resolve()
      })
      loadgen.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`load generator exited with ${String(code)}`))
      })
      if (loadgen.exitCode !== null) reject(new Error(`load generator exited with ${loadgen.exitCode}`))
      else loadgen.send(job)
    })
  } catch (err) {
    for (const name of pending) done(name, { ...emptyResult(), failures: [(err as Error).message] })
  } finally {
    children.delete(loadgen)
    await Promise.all([loadgen, ...instances.map(({ child }) => child)].map(async (child) => {
      await stop(child)
      children.delete(child)
    }))
  }
}
