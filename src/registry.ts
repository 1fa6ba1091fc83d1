import { type Static, Type } from '@sinclair/typebox'
import type { RedisClient } from './redis-connection.js'

/**
 * The figures of one instance: its registry entry, and what `GET /ws/stats` and the dashboard's
 * cluster panel read, written once as a schema the route answers with and the type derived
 * from it. Open objects: a figure added here reaches clients without a schema change.
 */
export const InstanceFigures = Type.Object({
  serverId: Type.String(),
  connections: Type.Integer(),
  users: Type.Integer(),
  subscriptions: Type.Integer(),
  eventsPublished: Type.Integer(),
  eventsReceived: Type.Integer(),
  deliveries: Type.Integer(),
  busRoundTripMs: Type.Union([Type.Number(), Type.Null()], { description: 'the last canary\'s publish→receive time through the bus; null before the first' })
}, { additionalProperties: true })
export type InstanceFigures = Static<typeof InstanceFigures>

/** Every live instance's figures, and their totals. */
export const ClusterFigures = Type.Object({
  totalServers: Type.Integer(),
  totalConnections: Type.Integer(),
  servers: Type.Array(InstanceFigures)
}, { additionalProperties: true })
export type ClusterFigures = Static<typeof ClusterFigures>

/**
 * What `GET /ws/stats` answers: the design documents' `{server, global, notifications}`, and
 * `instance`, the name `server` had before, kept for the clients and dashboards that read it.
 */
export const Stats = Type.Object({
  server: InstanceFigures,
  global: Type.Union([ClusterFigures, Type.Null()], { description: 'every live instance; null while Redis is unreachable' }),
  notifications: Type.Object({
    queueLength: Type.Integer({ description: 'live events this instance holds back, not yet written to any socket: those queued behind a resume\'s replay. The gateway keeps no queue of notifications for absent users (they resume from the history), so this is the only queue there is; usually 0' })
  }),
  instance: Type.Object(InstanceFigures.properties, { additionalProperties: true, description: 'the same figures as `server`, under their earlier name' })
})
export type Stats = Static<typeof Stats>

/**
 * One hash tag for the set and every entry, so the MULTI that writes them and the MGET that reads
 * them stay on one cluster slot: the sum over instances needs no scan across nodes.
 */
const SERVERS_KEY = 'eventgate:{registry}:servers'
const serverKey = (serverId: string): string => `eventgate:{registry}:server:${serverId}`

/**
 * Each instance's figures, kept in Redis under a key with a TTL and in a sorted set scored by
 * expiry, so an instance that dies stops being counted once its entry expires.
 */
export class InstanceRegistry {
  private timer: NodeJS.Timeout | undefined
  private onReady: (() => void) | undefined

  constructor (
    private readonly redis: RedisClient,
    private readonly serverId: string,
    private readonly figures: () => InstanceFigures,
    private readonly ttlMs: number
  ) {}

  /** Refreshes the entry at a third of its TTL, so two missed refreshes still keep it alive. */
  start (onError: (err: unknown) => void): void {
    const refresh = (): void => { this.refresh().catch(onError) }
    // Also on every (re)connect: commands fail fast rather than queue while the connection is
    // not ready (src/redis-connection.ts), so the first refresh at boot usually fails, and a
    // restarted Redis may have lost the entry; either way the instance would go uncounted
    // until the next interval.
    this.onReady = refresh
    this.redis.on('ready', refresh)
    refresh()
    this.timer = setInterval(refresh, Math.floor(this.ttlMs / 3))
    this.timer.unref()
  }

  async refresh (): Promise<void> {
    await this.redis.multi()
      .set(serverKey(this.serverId), JSON.stringify(this.figures()), 'PX', this.ttlMs)
      .zadd(SERVERS_KEY, Date.now() + this.ttlMs, this.serverId)
      .exec()
  }

  /** Every live instance's figures; this instance's are read live, the others' are up to a refresh old. */
  async cluster (): Promise<ClusterFigures> {
    await this.redis.zremrangebyscore(SERVERS_KEY, '-inf', Date.now())
    const others = (await this.redis.zrange(SERVERS_KEY, 0, '-1')).filter((id) => id !== this.serverId)
    const entries = others.length === 0 ? [] : await this.redis.mget(others.map(serverKey))
    const servers = [this.figures(), ...entries.flatMap((entry) => entry === null ? [] : [JSON.parse(entry) as InstanceFigures])]
    return {
      totalServers: servers.length,
      totalConnections: servers.reduce((sum, s) => sum + s.connections, 0),
      servers
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    if (this.onReady !== undefined) this.redis.off('ready', this.onReady)
    await this.redis.multi().del(serverKey(this.serverId)).zrem(SERVERS_KEY, this.serverId).exec()
  }
}
