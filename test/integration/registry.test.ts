import { pino } from 'pino'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { connectRedis, readyWithin } from '../../src/redis-connection.js'
import { type InstanceFigures, InstanceRegistry } from '../../src/registry.js'

const quiet = pino({ level: 'silent' })

/** This file's own Redis; each test names its instances apart from the others'. */
const redis = await RedisServer.start(t)

const figures = (serverId: string, connections: number): InstanceFigures => ({
  serverId, connections, users: connections, subscriptions: 0, eventsPublished: 0, eventsReceived: 0, deliveries: 0, busRoundTripMs: null
})

/** An instance's registry on a command connection like the gateway's, stopped when `t` ends. */
async function registryOf (t: Test, serverId: string, connections: number, ttlMs = 15_000): Promise<InstanceRegistry> {
  const connection = connectRedis({ kind: 'single', url: redis.url }, 'commands', quiet)
  t.teardown(() => { connection.disconnect() })
  t.equal(await readyWithin(connection, 5000), true, `${serverId}'s connection is ready`)
  const registry = new InstanceRegistry(connection, serverId, () => figures(serverId, connections), ttlMs)
  t.teardown(async () => { await registry.stop() })
  return registry
}

const servers = async (registry: InstanceRegistry): Promise<string[]> => (await registry.cluster()).servers.map((s) => s.serverId)

t.test('every live instance is counted once: its own figures first, the totals summed', async (t) => {
  const [a, b] = [await registryOf(t, 'sum-a', 3), await registryOf(t, 'sum-b', 4)]
  a.start((err) => { t.error(err) })
  b.start((err) => { t.error(err) })
  await until(async () => (await a.cluster()).totalServers === 2, 5000, 'both entries')
  const cluster = await a.cluster()
  t.same(cluster.servers.map((s) => s.serverId), ['sum-a', 'sum-b'])
  t.equal(cluster.totalConnections, 7)
  t.same(await servers(b), ['sum-b', 'sum-a'], 'each instance reads itself first')
})

t.test('a stopped instance is no longer counted', async (t) => {
  const [a, b] = [await registryOf(t, 'stop-a', 1), await registryOf(t, 'stop-b', 1)]
  await a.refresh()
  await b.refresh()
  t.same(await servers(a), ['stop-a', 'stop-b'])
  await b.stop()
  t.same(await servers(a), ['stop-a'])
})

t.test('an instance that stops refreshing drops out once its entry expires, as a crashed one does', async (t) => {
  const a = await registryOf(t, 'ttl-a', 1)
  const crashed = await registryOf(t, 'ttl-b', 1, 200)
  await crashed.refresh()
  t.same(await servers(a), ['ttl-a', 'ttl-b'])
  await until(async () => (await servers(a)).length === 1, 5000, 'the entry to expire')
  t.same(await servers(a), ['ttl-a'])
})
