import { Redis } from 'ioredis'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken } from '../../harness/tokens.js'
import { acknowledged, ReplicationError } from '../../src/bus/durability.js'
import { HISTORY_KEY } from '../../src/bus/redis-log.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { get, post, startGateway } from '../helpers/gateway.js'

const one = { replicas: 1, timeoutMs: 100 }

t.test('a write is acknowledged only with as many replicas as asked', async (t) => {
  t.equal(acknowledged([[null, '["1-0"]'], [null, 1]], one), '["1-0"]')
  t.equal(acknowledged([[null, 'x'], [null, 2]], one), 'x', 'more replicas than asked')
  t.throws(() => acknowledged([[null, 'x'], [null, 0]], one), new ReplicationError(0, 1))
  const refused = new Error('NOSCRIPT')
  t.throws(() => acknowledged([[refused, null], [null, 1]], one), refused, 'the write\'s own error first')
  t.throws(() => acknowledged([[null, 'x'], [new Error('ERR WAIT'), null]], one), new ReplicationError(0, 1), 'a failed WAIT counts none')
  t.throws(() => acknowledged(null, one), /no reply/)
})

t.test('REDIS_WAIT_REPLICAS on one Redis: 202 once a replica has the event, 503 with Retry-After when none does', async (t) => {
  const master = await RedisServer.start(t)
  const replica = await RedisServer.start(t, { args: ['--replicaof', '127.0.0.1', String(master.port)] })
  // A canary queued behind one WAIT (1000 ms) misses its 400 ms; one not queued comes back in
  // time even on a loaded machine, where 100 ms was too tight for the round trip alone.
  const env = { REDIS_URL: master.url, ...LENIENT_LIMITS, REDIS_WAIT_TIMEOUT: '200', HEALTH_CANARY_INTERVAL: '400' }
  // Long enough for a replica's acknowledgement on a loaded machine: a refusal here must mean none.
  const waiting = await startGateway(t, { ...env, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '1000' })
  const greedy = await startGateway(t, { ...env, REDIS_WAIT_REPLICAS: '2' })
  await until(() => waiting.app.bus.connected && greedy.app.bus.connected, 10_000, 'the gateways to reach Redis')
  const publish = async (url: string, key: string) => await post(`${url}/events`, { type: 'durable.write' }, serviceToken(), { 'idempotency-key': key })

  await until(async () => (await publish(waiting.url, 'synced')).status === 202, 10_000, 'the replica to sync')
  const accepted = await publish(waiting.url, 'one')
  t.equal(accepted.status, 202, 'one replica holds it')

  const short = await publish(greedy.url, 'two')
  t.match(short, { status: 503, body: { code: 'EVENTGATE_BUS_UNAVAILABLE' } }, 'two replicas asked, one there')
  t.ok(Number(short.headers.get('retry-after')) > 0, 'with Retry-After')

  const raw = new Redis(master.port, '127.0.0.1')
  t.teardown(() => raw.disconnect())
  const before = await raw.xlen(HISTORY_KEY)
  await replica.stop()
  const alone = await publish(waiting.url, 'alone')
  t.match(alone, { status: 503, body: { code: 'EVENTGATE_BUS_UNAVAILABLE' } }, 'the replica is gone')
  // Publishes blocked in WAIT, one after another, for seconds: the canary and the other commands
  // do not queue behind them, so events still flow and the instance stays healthy.
  let waited = false
  const blocked = Promise.all(Array.from({ length: 5 }, async (_, i) => await publish(waiting.url, `blocked-${i}`)))
    .finally(() => { waited = true })
  const health: number[] = []
  while (!waited) health.push((await get(`${waiting.url}/ws/health`)).status)
  t.same((await blocked).map((r) => r.status), [503, 503, 503, 503, 503])
  t.ok(health.length > 0, `health asked ${health.length} times while the publishes waited`)
  t.same(new Set(health), new Set([200]), 'health stays 200 while publishes wait for a replica')
  await replica.start()
  await until(async () => (await publish(waiting.url, 'alone')).status === 202, 10_000, 'the retry to be accepted once the replica is back')
  t.equal(await raw.xlen(HISTORY_KEY), before + 6, 'each refused publish and its retries are one event')
})
