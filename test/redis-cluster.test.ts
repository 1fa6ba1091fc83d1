import { Cluster } from 'ioredis'
import t from 'tap'
import { RedisCluster } from './helpers/redis-cluster.js'
import type { RedisServer } from './helpers/redis.js'

t.test('the helper starts a cluster of three masters with a replica each, every slot served', async (t) => {
  const started = performance.now()
  const cluster = await RedisCluster.start(t)
  t.comment(`cluster started in ${Math.round(performance.now() - started)} ms`)
  t.equal(cluster.masters.length, 3)
  t.equal(cluster.replicas.length, 3)
  t.match(cluster.seeds, /^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){5}$/)

  const client = new Cluster(cluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })))
  t.teardown(() => client.disconnect())
  // Keys on every master: a, b and c hash to slots the three masters split between them.
  await Promise.all(['a', 'b', 'c'].map(async (key) => await client.set(key, key)))
  t.same(await Promise.all(['a', 'b', 'c'].map(async (key) => await client.get(key))), ['a', 'b', 'c'])

  const replica = cluster.replicas[0] as RedisServer
  await cluster.kill(replica)
  t.notOk(replica.running, 'a killed node is gone')
})
