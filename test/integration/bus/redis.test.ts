import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { until } from '../../../harness/ports.js'
import { RedisServer } from '../../../harness/redis.js'
import { BusUnavailableError } from '../../../src/bus/bus.js'
import { EVENTS_CHANNEL, HISTORY_KEY } from '../../../src/bus/redis-log.js'
import { RedisBus } from '../../../src/bus/redis.js'
import type { Log } from '../../../src/logging.js'
import { connectRedis } from '../../../src/redis-connection.js'
import { compareIds } from '../../../src/wire/event-id.js'
import { aDraft, arrived, type BusFactory, busContract, drained, increasing, publishMany, RETENTION, subscribed } from '../../contracts/bus-contract.js'
import { liveOnlyContract } from '../../contracts/bus-live-contract.js'
import { RedisProxy } from '../../helpers/redis-proxy.js'
import { openRedisBus } from '../../helpers/redis-bus.js'

const quiet = pino({ level: 'silent' })

/** A plain client, for what the gateway never does itself: killing clients, writing junk. */
function rawClient (t: Test, url: string): Redis {
  const raw = new Redis(url)
  t.teardown(() => { raw.disconnect() })
  return raw
}

async function channelSubscribers (raw: Redis): Promise<number> {
  const [, count] = await raw.pubsub('NUMSUB', EVENTS_CHANNEL) as [string, number]
  return count
}

/**
 * A subscribing bus, another that publishes, one event through, and then the subscriber's
 * connection killed: what the other publishes next lands while no one listens.
 */
async function subscriptionCut (t: Test) {
  const redis = await RedisServer.start(t)
  const [bus, other] = [await openRedisBus(t, redis.url), await openRedisBus(t, redis.url)]
  const received = await subscribed(bus)
  const raw = rawClient(t, redis.url)
  const [before] = await other.publish([aDraft(0)])
  await arrived(received, 1)
  await raw.client('KILL', 'TYPE', 'PUBSUB')
  return { other, received, raw, before: before as string }
}

function warnings (): { log: Log, lines: string[] } {
  const lines: string[] = []
  const log = pino({ level: 'warn' }, new Writable({
    write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() }
  }))
  return { log, lines }
}

// A redis-server per test: each starts from an empty history, whatever the others trimmed.
const redisBus: BusFactory = async (t, retention) => await openRedisBus(t, (await RedisServer.start(t)).url, { retention })

busContract('RedisBus', redisBus)
liveOnlyContract('RedisBus', redisBus)

/** The Redis the tests below share; the ones that stop Redis start their own. */
const shared = await RedisServer.start(t)

t.test('RedisBus: two instances on one Redis receive every event once, in the same order, batches whole', async (t) => {
  const [a, b] = [await openRedisBus(t, shared.url), await openRedisBus(t, shared.url)]
  const [onA, onB] = [await subscribed(a), await subscribed(b)]
  const batches = await Promise.all(Array.from({ length: 20 }, async (_, n) =>
    await (n % 2 === 0 ? a : b).publish(Array.from({ length: 4 }, (_, k) => aDraft(n * 10 + k)))))
  const all = batches.flat().sort(compareIds)
  await arrived(onA, 80)
  await arrived(onB, 80)
  t.same(await drained(a, onA), all)
  t.same(await drained(b, onB), all)
  const order = onA.map((m) => m.event.id)
  for (const batch of batches) {
    const at = order.indexOf(batch[0] as string)
    t.same(order.slice(at, at + 4), batch, 'a batch is not interleaved with the other instance\'s')
  }
})

t.test('RedisBus: an idempotency key holds across instances', async (t) => {
  const [a, b] = [await openRedisBus(t, shared.url), await openRedisBus(t, shared.url)]
  const onA = await subscribed(a)
  const key = `p1:request:${Date.now()}`
  const first = await a.publish([aDraft(1), aDraft(2)], { ttlMs: 60_000, requestKey: key })
  t.same(await b.publish([aDraft(1), aDraft(2)], { ttlMs: 60_000, requestKey: key }), first)
  const eventKey = `p1:event:${Date.now()}`
  const [single] = await b.publish([aDraft(3)], { ttlMs: 60_000, eventKeys: [eventKey] })
  t.same(await a.publish([aDraft(3), aDraft(4)], { ttlMs: 60_000, eventKeys: [eventKey, undefined] }).then((ids) => ids[0]), single)
  const delivered = await drained(a, onA)
  t.same(delivered.slice(0, 3), [...first, single], 'published once')
  t.equal(delivered.length, 4, 'and the one new event')
})

t.test('RedisBus: malformed messages on the channel are dropped, logged, and later events still arrive', async (t) => {
  const { log, lines } = warnings()
  const bus = await openRedisBus(t, shared.url, { log })
  const received = await subscribed(bus)
  const raw = rawClient(t, shared.url)
  const valid = { id: '1-0', ...aDraft() }
  const malformed = [
    'not json',
    'null',
    '{"id":"x"}',
    '{"id":"1-0",',
    JSON.stringify({ ...valid, type: 'Not A Type' }),
    JSON.stringify({ ...valid, data: null }),
    JSON.stringify({ ...valid, id: 7 })
  ]
  for (const message of malformed) t.equal(await raw.publish(EVENTS_CHANNEL, message), 1, 'one subscriber got it')
  const ids = await bus.publish([aDraft(1)])
  t.same(await drained(bus, received), ids)
  t.equal(lines.filter((l) => l.includes('dropped a malformed message')).length, malformed.length)
  t.equal(bus.connected, true)
})

t.test('RedisBus: malformed stream entries are skipped by the history and by a refill', async (t) => {
  // The subscriber goes away; while it is gone, junk and events land in the stream.
  const { other, received, raw, before } = await subscriptionCut(t)
  const junk: Array<[string, string]> = [['e', 'not json'], ['e', '{}'], ['e', JSON.stringify({ ...aDraft(), type: 'Not A Type' })], ['x', '[1]']]
  const ids: string[] = []
  for (const [n, [field, value]] of junk.entries()) {
    await raw.xadd(HISTORY_KEY, '*', field, value)
    ids.push(...await other.publish([aDraft(n + 1)]))
  }
  t.equal(await channelSubscribers(raw), 0, 'all of it while no one listened')
  const page = await other.history.after(before as string, 100)
  t.same([page.messages.map((m) => m.event.id), page.truncated], [ids, false], 'the history reads past the junk')
  await arrived(received, 1 + ids.length, 10_000)
  t.same(await drained(other, received), [before, ...ids], 'the refill delivers the events, not the junk')
})

t.test('RedisBus: a subscriber that loses its connection refills the gap: every event once, in order', async (t) => {
  const redis = await RedisServer.start(t)
  const [bus, other] = [await openRedisBus(t, redis.url), await openRedisBus(t, redis.url)]
  const received = await subscribed(bus)
  const raw = rawClient(t, redis.url)

  // Another instance publishes without pause, before, during and after the outage.
  const published: string[] = []
  let running = true
  const loop = (async () => {
    for (let n = 0; running; n++) published.push(...await other.publish([aDraft(n)]))
  })()
  t.teardown(async () => { running = false; await loop })
  await until(() => published.length >= 20 && received.length >= 10, 5000, 'events flowing live')

  await raw.client('KILL', 'TYPE', 'PUBSUB')
  const atKill = published.length
  // More than a refill page while no one listens: ioredis waits 100 ms before reconnecting.
  const burst = await publishMany(other, 700, 100_000)
  t.equal(await channelSubscribers(raw), 0, 'the burst went out while the subscriber was gone')
  await until(async () => await channelSubscribers(raw) === 1, 10_000, 'the subscriber to come back')
  const atReturn = published.length
  await until(() => published.length >= atReturn + 20, 5000, 'live events after the return')
  running = false
  await loop
  t.ok(atReturn > atKill, `the loop published during the outage too (${atReturn - atKill})`)

  const all = [...published, ...burst].sort(compareIds)
  await arrived(received, all.length, 10_000)
  const got = await drained(other, received)
  t.equal(got.length, all.length, 'nothing twice, nothing missing')
  t.ok(increasing(got), 'in id order')
  t.same(got, all)
})

t.test('RedisBus: a closed bus receives nothing more that others publish', async (t) => {
  const [closing, other] = [await openRedisBus(t, shared.url), await openRedisBus(t, shared.url)]
  const [onClosing, onOther] = [await subscribed(closing), await subscribed(other)]
  const closed = closing.close()
  // Published while the close is on its way: Redis may still send it to the closing socket.
  await other.publish([aDraft(1)])
  await closed
  await other.publish([aDraft(2)])
  await arrived(onOther, 2)
  t.equal(onClosing.length, 0)
})

t.test('RedisBus: publish while Redis is down rejects with BusUnavailableError at once', async (t) => {
  const redis = await RedisServer.start(t)
  const bus = await openRedisBus(t, redis.url)
  await subscribed(bus)
  await redis.stop()
  // The first publish may still go out on the dead socket before the client notices.
  for (const attempt of ['as Redis dies', 'once the bus knows']) {
    const started = Date.now()
    await t.rejects(bus.publish([aDraft()]), BusUnavailableError, attempt)
    t.ok(Date.now() - started < 1000, `rejected within a second ${attempt}`)
    await until(() => !bus.connected, 5000, 'the bus to notice Redis is gone')
  }
  await t.rejects(bus.probe(500), BusUnavailableError, 'and the probe fails')
})

t.test('RedisBus: after Redis restarts, the subscriber resubscribes by itself and events flow', async (t) => {
  const redis = await RedisServer.start(t)
  const bus = await openRedisBus(t, redis.url)
  const received = await subscribed(bus)
  const [before] = await bus.publish([aDraft(0)])
  await arrived(received, 1)
  await redis.stop()
  await until(() => !bus.connected, 5000, 'the bus to notice Redis is gone')
  await redis.start()
  await until(() => bus.connected, 10_000, 'the bus to reconnect')
  const ids = await bus.publish([aDraft(1)])
  t.same(await drained(bus, received), [before, ...ids])
  // The restarted Redis ran without persistence: the stream is new, the old id unknown to it.
  const page = await bus.history.after(before as string, 10)
  t.equal(page.truncated, true, 'the lost history is reported, even though new events followed')
  t.ok(await bus.probe(2000) >= 0, 'the canary comes back')
})

t.test('RedisBus: across a Redis restart (with persistence), what another instance published meanwhile arrives once, in order', async (t) => {
  const redis = await RedisServer.start(t, { persistent: true })
  const bus = await openRedisBus(t, redis.url)
  const received = await subscribed(bus)
  const publisher = connectRedis({ kind: 'single', url: redis.url }, 'commands', quiet)
  t.teardown(() => { publisher.disconnect() })
  const other = new RedisBus({ kind: 'single', url: redis.url }, publisher, quiet, RETENTION, 'other')
  t.teardown(async () => { await other.close() })
  await until(() => publisher.status === 'ready', 5000, 'the other publisher')
  const before = await other.publish([aDraft(0), aDraft(1)])
  await arrived(received, 2)

  await redis.stop()
  await until(() => !bus.connected && publisher.status !== 'ready', 5000, 'both instances to notice Redis is gone')
  await redis.start()
  // Published as soon as the other instance is back, whether or not this one is yet.
  await until(() => publisher.status === 'ready', 10_000, 'the other publisher to reconnect')
  const meanwhile = await publishMany(other, 30, 2)
  await until(() => bus.connected, 10_000, 'the subscriber to reconnect')
  const after = await other.publish([aDraft(99)])
  t.same(await drained(other, received), [...before, ...meanwhile, ...after])
  const page = await bus.history.after(before[1] as string, 100)
  t.equal(page.truncated, false, 'the persisted history still holds what followed')
})

t.test('RedisBus: live-only events published while the subscription is down are not refilled; later ones arrive in order', async (t) => {
  const { other, received, raw, before } = await subscriptionCut(t)
  const [kept] = await other.publish([aDraft(1)])
  const missed = await other.publishLive(aDraft(2, { audience: 'admin' }))
  t.equal(await channelSubscribers(raw), 0, 'published while no one listened')
  await until(async () => await channelSubscribers(raw) === 1, 10_000, 'the subscriber to come back')
  const live = await other.publishLive(aDraft(3, { audience: 'admin' }))
  const [last] = await other.publish([aDraft(4)])
  const got = await drained(other, received)
  t.same(got, [before, kept, live, last], 'the kept event refilled, the missed live-only one gone, the later one delivered')
  t.ok(compareIds(missed, live) < 0)
})

t.test('RedisBus: a live-only event that arrives while the gap is refilled is delivered in its place, not taken for delivered', async (t) => {
  const redis = await RedisServer.start(t)
  const proxy = await RedisProxy.start(t, redis.port)
  const [bus, other] = [await openRedisBus(t, proxy.url), await openRedisBus(t, redis.url)]
  const received = await subscribed(bus)
  const raw = rawClient(t, redis.url)
  const [before] = await other.publish([aDraft(0)])
  await arrived(received, 1)

  // The subscription is made again, but its confirmation and what follows it are held back:
  // the refill starts only once they are through, and then reads past the live-only event.
  // The command itself, not the connection name `eventgate-subscriber`.
  proxy.holdRepliesAfter(/\r\nsubscribe\r\n/i)
  await raw.client('KILL', 'TYPE', 'PUBSUB')
  const [gap] = await other.publish([aDraft(1)])
  await until(async () => await channelSubscribers(raw) === 1, 10_000, 'the subscription to be made again')
  const live = await other.publishLive(aDraft(2, { audience: 'admin' }))
  const [after] = await other.publish([aDraft(3)])
  proxy.release()
  t.same(await drained(other, received), [before, gap, live, after], 'every event once, in id order, the live-only one included')
})

t.test('RedisBus: a stream written before the id clock existed: ids go on after its newest, and its ids stay placed', async (t) => {
  const redis = await RedisServer.start(t)
  const raw = rawClient(t, redis.url)
  const old = [await raw.xadd(HISTORY_KEY, '*', 'e', JSON.stringify(aDraft(0))), await raw.xadd(HISTORY_KEY, '*', 'e', JSON.stringify(aDraft(1)))] as string[]
  const bus = await openRedisBus(t, redis.url)
  t.equal(await bus.history.lastId('p0'), old[1], 'a new subscriber starts after the newest stored id')
  const live = await bus.publishLive(aDraft(2))
  const [kept] = await bus.publish([aDraft(3)])
  t.ok(increasing([...old, live, kept as string]), 'the clock starts after the stream')
  const page = await bus.history.after(old[0] as string, 10)
  t.same([page.messages.map((m) => m.event.id), page.truncated], [[old[1], kept], false], 'an id of the older stream is still placed')
  t.equal((await bus.history.after(`${Number((old[0] as string).split('-')[0]) - 1}-0`, 10)).truncated, true, 'one before it is not')
})
