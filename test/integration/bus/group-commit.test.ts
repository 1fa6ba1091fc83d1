import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { RedisServer } from '../../../harness/redis.js'
import { BusUnavailableError } from '../../../src/bus/bus.js'
import { HISTORY_KEY } from '../../../src/bus/redis-log.js'
import { aDraft, drained, increasing, subscribed } from '../../contracts/bus-contract.js'
import { openRedisBus } from '../../helpers/redis-bus.js'

const TTL_MS = 60_000
const IDEMPOTENCY_PREFIX = HISTORY_KEY.replace(/history$/, 'idempotency:')

async function scriptCalls (raw: Redis): Promise<number> {
  const stats = await raw.info('commandstats')
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

async function setUp (t: Test) {
  const redis = await RedisServer.start(t)
  const bus = await openRedisBus(t, redis.url)
  const raw = new Redis(redis.url)
  t.teardown(() => { raw.disconnect() })
  const received = await subscribed(bus)
  await bus.publish([aDraft(-1)])
  return { bus, raw, received }
}

t.test('RedisBus: concurrent publishes are written by one script call, each answered with its own ids, in order', async (t) => {
  const { bus, raw, received } = await setUp(t)
  const before = await scriptCalls(raw)
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, n) => await bus.publish([aDraft(2 * n), aDraft(2 * n + 1)])))
  t.equal(await scriptCalls(raw) - before, 1, 'one script call for the 20 requests')
  const ids = answers.flat()
  t.equal(new Set(ids).size, 40)
  t.ok(increasing(ids), 'ids in the order the requests were made')
  const delivered = await drained(bus, received)
  t.same(delivered.slice(1), ids, 'each event delivered once, in id order')
  const events = received.slice(1, 41).map((m) => (m.event.data as { n: number }).n)
  t.same(events, Array.from({ length: 40 }, (_, n) => n), 'each id is its own request\'s event')
})

t.test('RedisBus: idempotency keys hold between requests written by one call', async (t) => {
  const { bus, received } = await setUp(t)
  const requestKey = 'client:request:r1'
  const [first, retry, sharing, other] = await Promise.all([
    bus.publish([aDraft(1), aDraft(2)], { ttlMs: TTL_MS, requestKey }),
    bus.publish([aDraft(3)], { ttlMs: TTL_MS, requestKey }),
    bus.publish([aDraft(4), aDraft(5)], { ttlMs: TTL_MS, eventKeys: ['client:event:e1', undefined] }),
    bus.publish([aDraft(6)], { ttlMs: TTL_MS, eventKeys: ['client:event:e1'] })
  ])
  t.same(retry, first, 'a request key used earlier in the call answers with its ids')
  t.equal(other?.[0], sharing?.[0], 'an event key used earlier in the call answers with its id')
  const delivered = await drained(bus, received)
  t.same(delivered.slice(1), [...first, ...sharing], 'the repeats published nothing')
})

t.test('RedisBus: a failed script call fails exactly the requests it carried, and writes none of them', async (t) => {
  const { bus, raw, received } = await setUp(t)
  // An idempotency key Redis cannot read as a string makes the script fail where it meets it.
  await raw.hset(`${IDEMPOTENCY_PREFIX}client:request:broken`, 'x', '1')
  const failing = await Promise.allSettled([
    bus.publish([aDraft(1)]),
    bus.publish([aDraft(2)], { ttlMs: TTL_MS, requestKey: 'client:request:broken' })
  ])
  t.same(failing.map((o) => o.status), ['rejected', 'rejected'], 'both requests of the call fail')
  t.ok(failing.every((o) => o.status === 'rejected' && o.reason instanceof BusUnavailableError))
  const [later] = await bus.publish([aDraft(3)])
  const delivered = await drained(bus, received)
  t.same(delivered.slice(1), [later], 'nothing of the failed call was published; the next call was')
})
