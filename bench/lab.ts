import type { ClientSpec, ContenderName, Fleet } from './clients.js'
import type { PublishJob, PublishResult } from './publisher-worker.js'
import type { ShardSample } from './shards.js'
import { slotLayout } from './slots.js'
import { Tally } from './tally.js'

/** Sizes and durations of one run; `--quick` shrinks them to a smoke test. */
export interface Sizes {
  /** Clients 0…subscribers-1 subscribe to `bench`: the fan-out's audience and scale's few. */
  subscribers: number
  overloadRate: number
  overloadMs: number
  latencyRate: number
  latencyMs: number
  workloadUsers: number
  admins: number
  /** The workload's first rate: doubled until p99 passes the bound, then bisected. */
  workloadStartRate: number
  stepMs: number
  /**
   * Events offered per second in batches of BATCH_SIZE, for `stepMs`: more than any contender
   * takes, so the rate at which they are accepted is its batch throughput.
   */
  batchRate: number
  stormConnections: number
  memoryConnections: [number, number]
  scaleConnections: number
  scaleUserRate: number
  scaleFanoutRate: number
  scaleMs: number
  /** The cluster scenario: users who get one event each in turn, and the audience of its broadcasts. */
  clusterUsers: number
  clusterAudience: number
  /** One event in this many is a broadcast. */
  clusterBroadcastEvery: number
  /** The fixed rate at which latency, command shares and ingress are measured, for this long. */
  clusterRate: number
  clusterMs: number
  /** The first rate of the capacity search. */
  clusterStartRate: number
  /** Over which the instances' background commands are counted, with no event published. */
  clusterIdleMs: number
}

export interface ScenarioContext {
  contender: ContenderName
  wsBases: string[]
  sizes: Sizes
  /** Handshakes in flight at once while connecting. */
  concurrency: number
  /** Publishes through every instance in turn, or through the one at index `via`. */
  publish: (job: Omit<PublishJob, 'targets' | 'token'> & { via?: number }) => Promise<PublishResult>
  /** CPU microseconds used by all the contender's instances so far. */
  cpu: () => Promise<number>
  /** CPU microseconds used by each instance so far, in the order of `wsBases`. */
  cpuEach: () => Promise<number[]>
  /** RSS bytes of all the contender's instances, after a full GC in each. */
  memory: () => Promise<number>
  /** The command counters of each master of the turn's Redis. */
  shards: () => Promise<ShardSample[]>
  /** Bytes each instance has received from Redis so far, in the order of `wsBases`. */
  ingress: () => Promise<number[]>
  /** Events each instance has received from the bus so far, where it counts them (eventgate), else NaN. */
  received: () => Promise<number[]>
  log: (line: string) => void
}

/**
 * What a scenario measured, and what went wrong: any loss, duplicate or failure fails the run.
 * Warnings (publish requests lost on the network, not by the contender) are reported only.
 */
export interface ScenarioResult {
  metrics: Record<string, number>
  lost: number
  duplicates: number
  unexpected: number
  failures: string[]
  warnings: string[]
}

export const emptyResult = (): ScenarioResult => ({ metrics: {}, lost: 0, duplicates: 0, unexpected: 0, failures: [], warnings: [] })

export interface PhaseOptions {
  rate: number
  durationMs: number
  /** Events are of type `<topic>.user` when addressed to users, else `<topic>.fanout`. */
  topic: string
  /** User-addressed events go to clients base…base+count-1 (`u<base>`…), in turn. */
  users?: { base: number, count: number }
  /** Clients every event reaches: the subscribers of a fan-out, the admins of user events. */
  everyEvent: { from: number, count: number }
  /**
   * Mixed into user events: each event whose seq is a multiple of `every` is published without
   * a user, as `<topic>.fanout`, and is due to the audience (subscribed to `topic`) instead.
   */
  broadcasts?: { every: number, topic: string, audience: { from: number, count: number } }
  /** Publish through this instance alone (an index of `wsBases`), not through each in turn. */
  via?: number
  /** Events per request: batches of this many instead of one event per request. */
  batch?: number
  latency: boolean
}

export interface Phase {
  tally: Tally
  published: PublishResult
  cpuMicros: number
  /** The same, instance by instance. */
  cpuEachMicros: number[]
  /** From the first publish to the last delivery. */
  wallMs: number
  /** Over which `cpuMicros` was measured. */
  windowMs: number
}

/** A phase is over when everything due arrived, or nothing arrived for this long. */
const QUIET_MS = 5000
const SETTLE_POLL_MS = 250
const SETTLE_MAX_MS = 3000
/** CPU µs per ms of all instances below which they are done with what came before: a tenth of a core. */
const SETTLED_US_PER_MS = 100

const percent = (micros: number, ms: number): string => `${(micros / ms / 10).toFixed(0)}%`

/**
 * The load generator's side of one contender turn: its connections, shared by the scenarios of
 * the turn, and the sequence numbers of events, unique over the turn so a late delivery from
 * one phase can never count in the next.
 */
export class Lab {
  private seq = 0

  constructor (readonly ctx: ScenarioContext, readonly fleet: Fleet) {}

  /** Publishes one paced run of events and counts their deliveries into `into`. */
  async phase (into: ScenarioResult, name: string, options: PhaseOptions): Promise<Phase> {
    const firstSeq = this.seq
    const count = Math.round(options.rate * options.durationMs / 1000)
    this.seq += count
    const layout = slotLayout(firstSeq, count, options)
    const tally = new Tally(layout.expected, layout.slot, options.latency)
    tally.excuse(layout.unused)
    this.fleet.onEvent(tally.record)
    const start = performance.now()
    const cpu0 = await this.ctx.cpuEach()
    const own0 = process.cpuUsage()
    const t0 = performance.now()
    const published = await this.ctx.publish({
      rate: options.rate,
      durationMs: options.durationMs,
      firstSeq,
      type: `${options.topic}.${options.users === undefined ? 'fanout' : 'user'}`,
      ...(options.users === undefined ? {} : { users: options.users }),
      ...(options.broadcasts === undefined ? {} : { broadcast: { every: options.broadcasts.every, type: `${options.broadcasts.topic}.fanout` } }),
      ...(options.via === undefined ? {} : { via: options.via }),
      ...(options.batch === undefined ? {} : { batch: options.batch })
    })
    for (const seq of [...published.refused, ...published.unsent]) tally.excuse(layout.slotsOf(seq))
    await tally.drained(QUIET_MS)
    const cpuEachMicros = (await this.ctx.cpuEach()).map((micros, i) => micros - (cpu0[i] as number))
    const cpuMicros = cpuEachMicros.reduce((a, b) => a + b, 0)
    const own = process.cpuUsage(own0)
    const windowMs = performance.now() - start
    this.fleet.onEvent(() => {})
    this.account(into, name, tally, published)
    const wallMs = tally.lastAt - t0
    // The load generator's share of a core tells whether a throughput is its limit, not the servers'.
    this.ctx.log(`    ${name}: ${tally.delivered} deliveries in ${wallMs.toFixed(0)} ms; CPU: servers ${percent(cpuMicros, windowMs)}, load generator ${percent(own.user + own.system, windowMs)}`)
    return { tally, published, cpuMicros, cpuEachMicros, wallMs, windowMs }
  }

  /** Opens connections after the last one; resolves with the rate at which they became subscribed. */
  async open (specs: ClientSpec[]): Promise<number> {
    const t0 = performance.now()
    await this.fleet.open(specs, this.ctx.concurrency)
    const rate = specs.length / (performance.now() - t0) * 1000
    if (specs.length > 0) this.ctx.log(`    ${specs.length} connections opened (${this.fleet.length} in all), ${rate.toFixed(0)}/s`)
    return rate
  }

  /**
   * Opens the clients up to index `count`. Client i is user `u<i>`, subscribed to `bench` among
   * the first `subscribers` and to `idle` after them: scenarios of one turn share them.
   */
  async ensure (count: number): Promise<number> {
    const { subscribers } = this.ctx.sizes
    const specs = Array.from({ length: Math.max(0, count - this.fleet.length) }, (_, i): ClientSpec => {
      const index = this.fleet.length + i
      return { user: `u${index}`, admin: false, topic: index < subscribers ? 'bench' : 'idle' }
    })
    return await this.open(specs)
  }

  /** Closes clients from…to-1 and waits for the servers to be done with the closes. */
  async closeRange (from: number, to: number): Promise<void> {
    if (this.fleet.closeRange(from, to) > 0) await this.settle()
  }

  /** Resolves once the servers' CPU falls to near idle, or after SETTLE_MAX_MS. */
  async settle (): Promise<void> {
    const deadline = performance.now() + SETTLE_MAX_MS
    let cpu = await this.ctx.cpu()
    let at = performance.now()
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS))
      const now = await this.ctx.cpu()
      const busy = (now - cpu) / (performance.now() - at)
      if (busy < SETTLED_US_PER_MS) return
      cpu = now
      at = performance.now()
    }
  }

  private account (into: ScenarioResult, name: string, tally: Tally, published: PublishResult): void {
    into.lost += tally.lost
    into.duplicates += tally.duplicates
    into.unexpected += tally.unexpected
    if (published.retried > 0) this.ctx.log(`    ${name}: ${published.retried} publish requests sent again after a kept-alive connection closed`)
    if (published.refused.length > 0) into.failures.push(`${name}: the servers refused ${published.refused.length} of ${published.started} publishes (${published.failure ?? ''})`)
    if (published.unsent.length > 0) {
      into.warnings.push(`${name}: ${published.unsent.length} of ${published.started} publish requests failed on the network after ${published.retried} retries (${published.failure ?? ''}); their deliveries are not counted`)
    }
    if (tally.lost > 0) into.failures.push(`${name}: ${tally.lost} of ${tally.expected - tally.excused} deliveries lost`)
    if (this.fleet.unexpectedCloses.length > 0) {
      into.failures.push(`${name}: servers closed ${this.fleet.unexpectedCloses.length} connections (codes ${[...new Set(this.fleet.unexpectedCloses)].join(', ')})`)
      this.fleet.unexpectedCloses.length = 0
    }
  }
}
