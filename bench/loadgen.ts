import { Worker } from 'node:worker_threads'
import { benchToken } from './auth.js'
import type { ContenderName } from './clients.js'
import type { ControlReport } from './control.js'
import { bytesFromRedis } from './ingress.js'
import type { PublishJob, PublishResult } from './publisher-worker.js'
import type { Sizes } from './lab.js'
import { runGroup, type ScenarioName } from './scenarios.js'
import { ShardCounters } from './shards.js'

/** What the runner asks of the load generator: one group of scenarios against one contender's instances. */
export interface LoadJob {
  contender: ContenderName
  scenarios: ScenarioName[]
  servers: Array<{ port: number, controlPort: number, pid: number }>
  /** The ports of the Redis the instances run on: every node, and those that own slots. */
  redis: { nodes: readonly number[], masters: readonly number[] }
  sizes: Sizes
  concurrency: number
}

const RECEIVED = /^eventgate_events_received_total (\d+)/m

/** Events an eventgate instance has received from the bus, from its metrics; NaN for the others. */
async function received (contender: ContenderName, port: number): Promise<number> {
  if (contender !== 'eventgate') return Number.NaN
  const match = RECEIVED.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
  return match === null ? Number.NaN : Number(match[1])
}

const PUBLISH_PATH: Record<ContenderName, string> = { eventgate: '/events', socketio: '/publish', bare: '/publish' }

async function control (ports: number[], path: '/cpu' | '/memory'): Promise<ControlReport[]> {
  return await Promise.all(ports.map(async (port) => await (await fetch(`http://127.0.0.1:${port}${path}`)).json() as ControlReport))
}

async function run (job: LoadJob): Promise<void> {
  // The publisher paces events on a thread of its own, so receiving 100k frames a second on this
  // one does not delay the next publish. tsx's loader hooks are not inherited by workers: the
  // worker registers them before importing the TypeScript file.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./publisher-worker.ts', import.meta.url).href)
  const worker = new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`, { eval: true })
  const targets = job.servers.map((s) => `http://127.0.0.1:${s.port}${PUBLISH_PATH[job.contender]}`)
  const token = benchToken('bench-publisher', ['service'])
  const controlPorts = job.servers.map((s) => s.controlPort)
  const shards = await ShardCounters.open(job.redis.masters)
  await runGroup(job.scenarios, {
    contender: job.contender,
    wsBases: job.servers.map((s) => `ws://127.0.0.1:${s.port}`),
    sizes: job.sizes,
    concurrency: job.concurrency,
    publish: async ({ via, ...publish }) => await new Promise<PublishResult>((resolve) => {
      worker.once('message', resolve)
      worker.postMessage({ ...publish, targets: via === undefined ? targets : targets.slice(via, via + 1), token } satisfies PublishJob)
    }),
    cpu: async () => (await control(controlPorts, '/cpu')).reduce((sum, r) => sum + r.cpuMicros, 0),
    cpuEach: async () => (await control(controlPorts, '/cpu')).map((r) => r.cpuMicros),
    memory: async () => (await control(controlPorts, '/memory')).reduce((sum, r) => sum + r.rssBytes, 0),
    shards: async () => await shards.sample(),
    ingress: async () => await bytesFromRedis(job.redis.nodes, job.servers.map((s) => s.pid)),
    received: async () => await Promise.all(job.servers.map(async (s) => await received(job.contender, s.port))),
    log: (line) => { process.send?.({ log: line }) }
  }, (scenario, result) => { process.send?.({ scenario, result }) })
  shards.close()
  await worker.terminate()
  // Exiting with messages still queued on the IPC channel would lose them; they go in order.
  await new Promise<void>((resolve) => { process.send?.({ done: true }, undefined, undefined, () => { resolve() }) })
}

process.once('message', (job: LoadJob) => {
  run(job).then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`load generator failed: ${String((err as Error).stack ?? err)}\n`)
    process.exit(1)
  })
})
