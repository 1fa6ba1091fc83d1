import { type Cluster, Redis } from 'ioredis'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import type { RedisServer } from '../../harness/redis.js'
import { CLOCK_KEY, EVENTS_CHANNEL, HISTORY_KEY } from '../../src/bus/redis-log.js'
import { RedisBus } from '../../src/bus/redis.js'
import { connectRedis, type RedisClient, readyWithin } from '../../src/redis-connection.js'
import type { RedisTarget } from '../../src/redis-target.js'
import { InstanceRegistry } from '../../src/registry.js'
import { RedisStore } from '../../src/store/redis.js'
import { aDraft, type BusFactory, busContract, drained, RETENTION, subscribed } from '../contracts/bus-contract.js'
import { liveOnlyContract } from '../contracts/bus-live-contract.js'
import { storeContract } from '../contracts/store-contract.js'
import { RedisCluster } from '../helpers/redis-cluster.js'

const quiet = pino({ level: 'silent' })

/** This file's own cluster, shared by its tests (a start costs seconds): each bus test empties it first. */
const started = performance.now()
const cluster = await RedisCluster.start(t)
t.comment(`cluster of six nodes started in ${Math.round(performance.now() - started)} ms`)
const target: RedisTarget = { kind: 'cluster', nodes: cluster.masters.map((n) => ({ host: '127.0.0.1', port: n.port })), tls: false }

/** A command connection like the gateway's on the cluster, closed when `t` ends. */
async function commands (t: Test): Promise<RedisClient> {
  const connection = connectRedis(target, 'commands', quiet)
  t.teardown(() => { connection.disconnect() })
  t.equal(await readyWithin(connection, 10_000), true, 'the command connection is ready')
  return connection
}

/** Every master emptied: each bus test starts from no history, as it would on a Redis of its own. */
async function emptied (connection: RedisClient): Promise<void> {
  await Promise.all((connection as Cluster).nodes('master').map(async (node) => await node.flushall()))
}

const clusterBus: BusFactory = async (t, retention) => {
  const publisher = await commands(t)
  await emptied(publisher)
  const bus = new RedisBus(target, publisher, quiet, { ...RETENTION, ...retention }, 'test')
  t.teardown(async () => { await bus.close() })
  return bus
}

t.test('the helper starts three masters with a replica each, every slot served', async (t) => {
  t.equal(cluster.masters.length, 3)
  t.equal(cluster.replicas.length, 3)
  t.match(cluster.seeds, /^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){5}$/)
  const connection = await commands(t)
  const owners = new Set(await Promise.all(['a', 'b', 'c'].map(async (key) => await connection.cluster('KEYSLOT', key))))
  t.equal(owners.size, 3, 'three keys on three slots')
})

t.test('the event log\'s keys and channel share one slot', async (t) => {
  const connection = await commands(t)
  const slots = await Promise.all([HISTORY_KEY, CLOCK_KEY, EVENTS_CHANNEL, 'eventgate:{p0}:idempotency:"publisher":{other}'].map(async (k) => await connection.cluster('KEYSLOT', k)))
  t.equal(new Set(slots).size, 1, `one slot: ${slots.join(', ')}`)
})

busContract('RedisBus on a cluster', clusterBus)
liveOnlyContract('RedisBus on a cluster', clusterBus)
storeContract('RedisStore on a cluster', async (t) => new RedisStore(await commands(t)))

t.test('RedisBus on a cluster: events travel by sharded pub/sub, never the classic kind', async (t) => {
  const bus = await clusterBus(t)
  const received = await subscribed(bus)
  const ids = await bus.publish([aDraft(0), aDraft(1)])
  t.same(await drained(bus, received), ids)
  const counts = async (command: 'NUMSUB' | 'SHARDNUMSUB'): Promise<number[]> => await Promise.all(cluster.masters.map(async (node) => {
    const [, count] = await direct(t, node).call('PUBSUB', command, EVENTS_CHANNEL) as [string, number]
    return count
  }))
  t.same((await counts('SHARDNUMSUB')).sort(), [0, 0, 1], 'one sharded subscription, on the master owning the channel')
  t.same(await counts('NUMSUB'), [0, 0, 0], 'no classic subscription anywhere')
})

t.test('RedisStore on a cluster: slots of users on every master are refreshed at once', async (t) => {
  const store = new RedisStore(await commands(t))
  // Keys that hash to slots on different masters: one pipeline could not carry them all.
  const slots = Array.from({ length: 12 }, (_, i) => ({ key: `slots:refresh-${i}`, member: `c${i}` }))
  for (const { key, member } of slots) t.equal(await store.acquireSlot(key, member, 1, 60_000), true)
  await store.refreshSlots(slots, 60_000)
  for (const { key } of slots) t.equal(await store.acquireSlot(key, 'other', 1, 60_000), false, `${key} is still held`)
})

t.test('InstanceRegistry on a cluster: every instance is summed without a scan across nodes', async (t) => {
  const connection = await commands(t)
  const figures = (serverId: string, connections: number) => () => ({ serverId, connections, users: 1, subscriptions: 1, eventsPublished: 0, eventsReceived: 0, deliveries: 0, busRoundTripMs: null })
  const registries = ['one', 'two', 'three'].map((id, i) => new InstanceRegistry(connection, id, figures(id, i + 1), 15_000))
  for (const registry of registries) await registry.refresh()
  const sum = await (registries[0] as InstanceRegistry).cluster()
  t.equal(sum.totalServers, 3)
  t.equal(sum.totalConnections, 6)
  await (registries[2] as InstanceRegistry).stop()
  t.equal((await (registries[0] as InstanceRegistry).cluster()).totalServers, 2, 'a stopped instance leaves the sum')
})

/** A plain connection to one node, for what only that node can tell. */
function direct (t: Test, node: RedisServer): Redis {
  const redis = new Redis(node.port, '127.0.0.1')
  t.teardown(() => { redis.disconnect() })
  return redis
}
