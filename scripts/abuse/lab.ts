import { Redis } from 'ioredis'
import { EnvSchema } from '../../src/config.js'
import { BenchRedis } from '../../bench/servers.js'
import { Instance } from './instance.js'
import { ABUSE_SECRET, METRICS_TOKEN } from './tokens.js'

/**
 * The HTTP timeouts the instances run with, short so a run can wait them out. Stalled uploads
 * and idle connections must be closed by them; a gateway that has no such setting keeps its own
 * default, and the runner says so.
 */
export const TIMEOUTS = { HTTP_REQUEST_TIMEOUT: 5000, HTTP_IDLE_TIMEOUT: 3000 }

/** The settings among `names` that this gateway's configuration schema does not know. */
export function unknownSettings (names: string[]): string[] {
  return names.filter((name) => !(name in EnvSchema.properties))
}

/**
 * A production deployment of two instances on the run's own redis-server: defaults everywhere
 * but what a run needs. Client frames up to 2 MiB let a 100,000-pattern subscribe (about
 * 1 MB) reach the gateway; the history holds the resume flood's events and little more, so an eviction shows
 * within a run.
 */
export function productionEnv (redisUrl: string, historyMaxEvents: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    JWT_SECRET: ABUSE_SECRET,
    METRICS_TOKEN,
    WEBSOCKET_MAX_PAYLOAD: String(2 * 1024 * 1024),
    HISTORY_MAX_EVENTS: String(historyMaxEvents),
    ...Object.fromEntries(Object.entries(TIMEOUTS).map(([name, ms]) => [name, String(ms)]))
  }
}

/** A time Redis was down on purpose, in `performance.now()` ms; `to` unset while it lasts. */
export interface Outage { from: number, to?: number }

/** Redis, instances A and B, and any dedicated instance a check starts. */
export class Lab {
  readonly extra: Instance[] = []
  /** The outages checks caused: the legitimate traffic is answered 503 then, as documented. */
  readonly outages: Outage[] = []
  private constructor (public redisServer: BenchRedis, readonly redis: Redis, readonly env: Record<string, string>, public a: Instance, public b: Instance) {
    // It reconnects on its own after an outage; each failed attempt meanwhile says nothing new.
    redis.on('error', () => {})
  }

  static async start (historyMaxEvents: number): Promise<Lab> {
    const redisServer = await BenchRedis.start()
    const env = productionEnv(redisServer.url, historyMaxEvents)
    try {
      const [a, b] = await Promise.all([Instance.start('abuse-a', env), Instance.start('abuse-b', env)])
      return new Lab(redisServer, new Redis(redisServer.url, { lazyConnect: false }), env, a, b)
    } catch (err) {
      await redisServer.stop()
      throw err
    }
  }

  get instances (): Instance[] {
    return [this.a, this.b, ...this.extra.filter((i) => i.alive)]
  }

  /** Starts an instance of the deployment with `overrides` (a key set to '' is left out). */
  async startExtra (name: string, overrides: Record<string, string>): Promise<Instance> {
    const env = Object.fromEntries(Object.entries({ ...this.env, ...overrides }).filter(([, value]) => value !== ''))
    const instance = await Instance.start(name, env)
    this.extra.push(instance)
    return instance
  }

  /** Starts A or B again if an attack ended it; returns the names restarted. */
  async revive (): Promise<string[]> {
    const dead = [this.a, this.b].filter((i) => !i.alive).map((i) => i.name)
    if (!this.a.alive) this.a = await Instance.start(this.a.name, this.env)
    if (!this.b.alive) this.b = await Instance.start(this.b.name, this.env)
    return dead
  }

  /** Kills the redis-server (SIGKILL): the outage lasts until `endOutage`. */
  async stopRedis (): Promise<void> {
    this.outages.push({ from: performance.now() })
    await this.redisServer.stop()
  }

  /** Starts a redis-server again on the same port; without persistence it comes back empty. */
  async startRedis (): Promise<void> {
    this.redisServer = await BenchRedis.start(this.redisServer.port)
  }

  /** The instances serve again: from now on the legitimate traffic must pass as before. */
  endOutage (): void {
    const last = this.outages.at(-1)
    if (last !== undefined && last.to === undefined) last.to = performance.now()
  }

  /** Whether an outage overlaps `[from, to]`. */
  inOutage (from: number, to: number): boolean {
    return this.outages.some((o) => o.from <= to && (o.to === undefined || o.to >= from))
  }

  /** Redis's `used_memory`, in bytes. */
  async redisMemory (): Promise<number> {
    const info = await this.redis.info('memory')
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0)
  }

  async stop (): Promise<void> {
    await Promise.all([this.a, this.b, ...this.extra].map(async (i) => await i.stop()))
    this.redis.disconnect()
    await this.redisServer.stop()
  }

  /** For an exit that cannot wait: kills every child at once. */
  killAll (): void {
    for (const instance of [this.a, this.b, ...this.extra]) if (instance.alive) instance.child.kill('SIGKILL')
    // Its SIGKILL is sent before stop() first waits; the exit does not wait for the rest.
    void this.redisServer.stop()
  }
}
