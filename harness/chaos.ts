import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { SteadyPublisher } from './chaos-publisher.js'
import { ResumingSubscriber } from './chaos-subscriber.js'
import { type ChaosCounts, settled, tally } from './chaos-tally.js'
import { until } from './ports.js'
import { type GatewayProcess, startGatewayProcess } from './process.js'
import { RedisServer } from './redis.js'
import type { Teardown } from './teardown.js'
import { serviceToken, userToken } from './tokens.js'

export type { ChaosCounts } from './chaos-tally.js'

export interface ChaosOptions {
  /** Events the publisher starts per second. */
  rate: number
  /** Events accepted before the first fault, between two faults and after the last. */
  phaseEvents: number
  subscribers: number
  /** Gateway processes. */
  instances: number
  /** Redis restarts, subscription cuts or instance kills. */
  faults: number
  /** What ends an instance in `instanceKills`: SIGKILL (the default), or SIGTERM for a drain. */
  signal?: 'SIGKILL' | 'SIGTERM'
  /** Progress lines, for a long run. */
  log?: (line: string) => void
}

/** Instances that answer 503 quickly and recover within half a second of Redis. */
const GATEWAY_ENV = {
  HEALTH_CANARY_INTERVAL: '500',
  // Every client of a run comes from 127.0.0.1, and one publisher sends them all.
  RATE_LIMIT_PUBLISH: '1000000',
  RATE_LIMIT_UPGRADES: '100000',
  AUTH_FAILURE_LIMIT: '100000',
  // A killed instance's sockets hold their users' slots for two heartbeats (a minute): after a
  // few kills the users would be refused 4008, which is that limit working, not this promise.
  MAX_CONNECTIONS_PER_USER: '1000'
}
/** How long one event may be retried: longer than any outage a run causes. */
const EVENT_DEADLINE_MS = 30_000
const HEALTH_DOWN_MS = 5000
/**
 * Redis reconnects back off up to two seconds (src/redis-connection.ts), then the canary; a
 * loaded two-core machine stretches that many times over. The bound only ends a run that hangs.
 */
const HEALTH_UP_MS = 60_000
/** Once publishing stops, how long the subscribers have to receive what they are owed. */
const SETTLE_MS = 15_000

/**
 * Redis restart under a steady stream: two (or more) gateway processes on a redis-server with
 * an fsynced append-only file; Redis is SIGKILLed mid-stream `faults` times and started again
 * once every instance reports 503. Subscribers stay connected; the instances refill.
 */
export async function redisRestarts (t: Teardown, options: ChaosOptions): Promise<ChaosCounts> {
  const started = performance.now()
  const redis = await RedisServer.start(t, { persistent: true })
  const run = await setUp(t, redis, options)
  for (let fault = 1; fault <= options.faults; fault++) {
    await run.phase()
    await redis.stop('SIGKILL')
    options.log?.(`redis killed (${fault}/${options.faults}) after ${run.publisher.counts.accepted} accepted`)
    await run.cluster.healthIs(503, HEALTH_DOWN_MS)
    await redis.start()
    await run.cluster.healthIs(200, HEALTH_UP_MS)
    options.log?.('redis back, every instance healthy')
  }
  await run.phase()
  return await run.finish('redis-restart', started)
}

/**
 * Instance kill under load: gateway processes on one Redis; one is SIGKILLed (or sent
 * `options.signal`) mid-stream `faults` times. Its subscribers reconnect to another instance and resume with `since`; the
 * publisher retries what died with it elsewhere. A new process then takes the dead one's place.
 */
export async function instanceKills (t: Teardown, options: ChaosOptions): Promise<ChaosCounts> {
  const started = performance.now()
  const signal = options.signal ?? 'SIGKILL'
  const redis = await RedisServer.start(t)
  const run = await setUp(t, redis, options)
  for (let fault = 1; fault <= options.faults; fault++) {
    await run.phase()
    const victim = (fault - 1) % options.instances
    const dead = run.cluster.wsUrls()[victim]
    const moved = run.subscribers.filter((s) => s.url === dead)
    await run.cluster.kill(victim, signal)
    options.log?.(`instance ${victim} ended by ${signal} (${fault}/${options.faults}) after ${run.publisher.counts.accepted} accepted; ${moved.length} subscribers to move`)
    await until(() => moved.every((s) => s.live && s.url !== dead), HEALTH_UP_MS, 'the killed instance\'s subscribers to resume elsewhere')
      .catch((err: Error) => { throw new Error(`${err.message}; their closes: ${JSON.stringify(moved.map((s) => s.closes))}, errors: ${JSON.stringify(moved.map((s) => s.errors))}`) })
    await run.cluster.replace(victim)
    options.log?.(`subscribers resumed; instance ${victim} replaced`)
  }
  await run.phase()
  return await run.finish(signal === 'SIGKILL' ? 'instance-kill' : `instance-kill(${signal})`, started)
}

/**
 * Subscriptions cut under a steady stream: Redis stays up, but every instance's subscribe-only
 * connection is killed (`CLIENT KILL TYPE pubsub`) mid-stream `faults` times. Publishing goes
 * on through the command connections while the subscribers reconnect, so every instance misses
 * events on the channel and must read them back from the stream: the refill, under load.
 */
export async function subscriptionCuts (t: Teardown, options: ChaosOptions): Promise<ChaosCounts> {
  const started = performance.now()
  const redis = await RedisServer.start(t)
  const operator = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  t.teardown(() => { operator.disconnect() })
  const subscriptions = async (): Promise<number> => String(await operator.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter((l) => l !== '').length
  const run = await setUp(t, redis, options)
  for (let fault = 1; fault <= options.faults; fault++) {
    await run.phase()
    const cut = Number(await operator.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))
    if (cut < options.instances) throw new Error(`cut ${cut} subscriptions, expected one per instance (${options.instances})`)
    options.log?.(`${cut} subscriptions cut (${fault}/${options.faults}) after ${run.publisher.counts.accepted} accepted`)
    await until(async () => await subscriptions() >= options.instances, HEALTH_UP_MS, 'every instance to subscribe again')
    await run.cluster.healthIs(200, HEALTH_UP_MS)
  }
  await run.phase()
  return await run.finish('subscription-cut', started)
}

/** Gateway processes on one Redis, as a load balancer sees them. */
class Cluster {
  readonly members: GatewayProcess[] = []
  private generation = 0

  constructor (private readonly t: Teardown, private readonly redisUrl: string) {}

  readonly httpUrls = (): string[] => this.members.map((m) => m.url)
  readonly wsUrls = (): string[] => this.members.map((m) => m.wsUrl)

  async start (count: number): Promise<void> {
    this.members.push(...await Promise.all(Array.from({ length: count }, async () => await this.spawn())))
    await this.healthIs(200, HEALTH_UP_MS)
  }

  /** Resolves once the process is gone; it stays in the list, as in a load balancer's, until replaced. */
  async kill (index: number, signal: NodeJS.Signals): Promise<void> {
    await this.members[index]?.kill(signal)
  }

  async replace (index: number): Promise<void> {
    const fresh = await this.spawn()
    await healthIs([fresh], 200, HEALTH_UP_MS)
    this.members[index] = fresh
  }

  async healthIs (status: number, timeoutMs: number): Promise<void> {
    await healthIs(this.members, status, timeoutMs)
  }

  private async spawn (): Promise<GatewayProcess> {
    return await startGatewayProcess(this.t, { ...GATEWAY_ENV, REDIS_URL: this.redisUrl, SERVER_ID: `chaos-${this.generation++}` })
  }
}

async function healthIs (members: readonly GatewayProcess[], status: number, timeoutMs: number): Promise<void> {
  const answers = async (m: GatewayProcess): Promise<boolean> =>
    await fetch(`${m.url}/ws/health`).then((r) => r.status === status, () => false)
  await until(async () => (await Promise.all(members.map(answers))).every(Boolean), timeoutMs, `every instance's /ws/health to answer ${status}`)
}

/** The cluster, its subscribers (spread over the instances, two per user) and a warmed-up publisher. */
async function setUp (t: Teardown, redis: RedisServer, options: ChaosOptions) {
  const cluster = new Cluster(t, redis.url)
  await cluster.start(options.instances)
  const users = Math.max(1, Math.ceil(options.subscribers / 2))
  const subscribers = Array.from({ length: options.subscribers }, (_, i) => {
    const userId = `u${i % users}`
    const subscriber = new ResumingSubscriber({ targets: cluster.wsUrls, home: i % options.instances, userId, bearer: userToken(userId), eventTypes: ['chaos.*'] })
    t.teardown(() => { subscriber.close() })
    subscriber.open()
    return subscriber
  })
  await until(() => subscribers.every((s) => s.live), HEALTH_UP_MS, 'every subscriber to subscribe')
  const publisher = new SteadyPublisher({ targets: cluster.httpUrls, bearer: serviceToken('chaos-publisher'), rate: options.rate, users, runId: randomUUID(), deadlineMs: EVENT_DEADLINE_MS })
  t.teardown(async () => { await publisher.stop() })
  // A broadcast every subscriber has seen gives each of them a `since` before any fault.
  const warmUp = await publisher.publishNext()
  if (warmUp === undefined) throw new Error('the warm-up event was not accepted')
  await until(() => subscribers.every((s) => s.seen.has(warmUp)), HEALTH_UP_MS, 'the warm-up event to reach every subscriber')
  publisher.start()
  const phaseTimeoutMs = 3 * 1000 * options.phaseEvents / options.rate + HEALTH_UP_MS
  return {
    cluster,
    subscribers,
    publisher,
    /** Waits for `phaseEvents` more events to be accepted. */
    async phase (): Promise<void> {
      const target = publisher.counts.accepted + options.phaseEvents
      await until(() => publisher.counts.accepted >= target, phaseTimeoutMs, `${options.phaseEvents} more events to be accepted`)
    },
    /** Stops publishing, lets every subscriber catch up (or not, in time), and counts. */
    async finish (scenario: string, started: number): Promise<ChaosCounts> {
      await publisher.stop()
      await settled(publisher, subscribers, SETTLE_MS)
      const counts = tally(scenario, options.faults, publisher, subscribers, performance.now() - started)
      for (const subscriber of subscribers) subscriber.close()
      return counts
    }
  }
}
