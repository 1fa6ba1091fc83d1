import t from 'tap'
import { until } from '../../harness/ports.js'
import { MEASURED_YOUNG_GENERATION, startGatewayProcess } from '../../harness/process.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs, type EventPayload, type Frame, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { get, post, startGateway } from '../helpers/gateway.js'
import { memory, mib, resetPeak } from '../helpers/memory.js'
import { within } from '../helpers/within.js'

/** 30 events of 30 KB per publish: under the 1 MiB body limit. */
const BATCH = 30
const BATCHES = 50
const DATA_CHARS = 30_000
const HISTORY_BYTES = BATCH * BATCHES * DATA_CHARS
const RESUMERS = 20
/** What 20 resumes through the history may add to the gateway's RSS: a page each, not the history. */
const RSS_GROWTH_BOUND = 150 * 2 ** 20
/** The longest a control event may take to arrive while the resumes run. */
const CONTROL_BOUND_MS = 5000

async function publish (url: string, events: Array<Record<string, unknown>>): Promise<string[]> {
  const res = await post(`${url}/events`, { events }, serviceToken())
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.ids as string[]
}

/** Sends `subscribe` with `since` and waits for its reply, however long the resume queues. */
async function resume (client: TestClient, eventTypes: string[], since: string, timeoutMs = 30_000): Promise<Frame> {
  client.send({ type: 'subscribe', id: 'resume', payload: { eventTypes, since } })
  return await client.next((f) => f.id === 'resume', timeoutMs)
}

/** `work`, or when it fails because the gateway died (its sockets close first), the death. */
async function unlessDied<T> (work: Promise<T>, died: Promise<never>): Promise<T> {
  try {
    return await work
  } catch (err) {
    await within(died, 5000, 'the gateway to exit').catch((why: Error) => { if (!why.message.startsWith('timed out')) throw why })
    throw err
  }
}

t.test('resumes through a large history of someone else\'s events cost a page each, not the history', async (t) => {
  const redis = await RedisServer.start(t)
  // A heap limit turns the exhaustion into a quick, clear death rather than a machine swapping.
  const gw = await startGatewayProcess(t, {
    ...LENIENT_LIMITS,
    REDIS_URL: redis.url,
    RATE_LIMIT_PUBLISH: '100000',
    HISTORY_MAX_EVENTS: '100000'
  }, ['--max-old-space-size=384', ...MEASURED_YOUNG_GENERATION])
  const pid = gw.child.pid ?? 0
  let exit: string | undefined
  let sampled = 0
  const died = new Promise<never>((_resolve, reject) => gw.child.once('exit', (code, signal) => {
    const output = gw.output()
    exit = `the gateway died (${String(code ?? signal)}) past ${mib(sampled)} MiB RSS: ${/FATAL ERROR.*/.exec(output)?.[0] ?? output.slice(-600)}`
    reject(new Error(exit))
  }))
  died.catch(() => {})

  const blob = 'x'.repeat(DATA_CHARS)
  let next = 0
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < BATCHES) {
      const b = next++
      await publish(gw.url, Array.from({ length: BATCH }, (_, i) => ({ type: 'authentication.login.success', userId: 'victim', data: { blob, n: b * BATCH + i } })))
    }
  }))

  const control = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('control'))
  await control.subscribe('control.*')
  const resumers = await Promise.all(Array.from({ length: RESUMERS }, async (_, i) =>
    await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(i % 2 === 0 ? 'mallory' : 'eve'))))

  const baseline = memory(pid).rss
  resetPeak(pid)
  let running = true
  const health: Array<number | string> = []
  const polling = (async () => {
    while (running && exit === undefined) {
      health.push(await get(`${gw.url}/ws/health`).then((r) => r.status, (err: Error) => err.message))
      // Once it has exited, its status has no VmRSS, then no file.
      if (exit === undefined) sampled = Math.max(sampled, memory(pid).rss || sampled)
    }
  })().catch(() => {})
  let controlled = 0
  let slowest = 0
  const controlling = (async () => {
    while (running && exit === undefined) {
      const started = Date.now()
      const [id] = await publish(gw.url, [{ type: 'control.tick', userId: 'control', data: { n: controlled } }])
      const [event] = await control.events(1, CONTROL_BOUND_MS)
      if (event?.id !== id) throw new Error(`control expected ${String(id)}, got ${JSON.stringify(event)}`)
      slowest = Math.max(slowest, Date.now() - started)
      controlled++
    }
  })().then(() => undefined, (err: Error) => err)
  const started = Date.now()
  const replies = await unlessDied(Promise.all(resumers.map(async (client) => await resume(client, ['authentication.*'], '0-0'))), died)
  const took = Date.now() - started
  running = false
  await polling

  t.equal(exit, undefined, 'the gateway is still up')
  t.equal(await controlling, undefined, 'every control event arrived')
  const peak = memory(pid).peak
  t.comment(`${RESUMERS} resumes through ${mib(HISTORY_BYTES)} MiB in ${took} ms; RSS ${mib(baseline)} MiB before, peak ${mib(peak)} MiB`)
  for (const reply of replies) t.match(reply, { type: 'subscribed', payload: { replayed: 0 } }, 'answered: none of it was theirs')
  t.ok(health.length > 0 && health.every((status) => status === 200), `health stayed 200 (${health.length} polls)`)
  t.ok(controlled > 0, `the control client kept receiving (${controlled} events, slowest ${slowest} ms)`)
  t.ok(peak - baseline < RSS_GROWTH_BOUND, `RSS grew ${mib(peak - baseline)} MiB, under ${mib(RSS_GROWTH_BOUND)} MiB`)
})

t.test('a replay past RESUME_MAX_BYTES sends the oldest events and closes 4009 at the last; resuming from it gets the rest', async (t) => {
  const maxBytes = 16 * 1024
  const gw = await startGateway(t, { ...LENIENT_LIMITS, RESUME_MAX_BYTES: String(maxBytes) })
  // Alice's events among Bob's, which her replays skip; one alone is larger than the bound.
  const mine: string[] = []
  for (let n = 0; n < 30; n++) {
    const size = n === 12 ? 20_000 : 2000
    const ids = await publish(gw.url, [
      { type: 'order.created', userId: 'alice', data: { n, blob: 'a'.repeat(size) } },
      { type: 'order.created', userId: 'bob', data: { n, blob: 'b'.repeat(2000) } }
    ])
    mine.push(ids[0] as string)
  }
  const received: EventPayload[] = []
  let since = '0-0'
  for (let attempt = 1; received.length < mine.length; attempt++) {
    if (attempt > mine.length) throw new Error(`no progress after ${received.length} events`)
    const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
    const reply = await resume(alice, ['order.*'], since)
    const replayed = reply.payload.replayed as number
    const events = await alice.events(replayed)
    received.push(...events)
    const sent = events.reduce((sum, e) => sum + JSON.stringify(e).length, 0)
    t.ok(replayed > 0, `resume ${attempt} from ${since} made progress: ${replayed} events, ${sent} characters`)
    t.ok(replayed === 1 || sent <= maxBytes, 'within the bound, or one event larger than it alone')
    if (received.length === mine.length) {
      t.match(reply.payload, { truncated: false }, 'the last resume replays the rest')
      const [live] = await publish(gw.url, [{ type: 'order.shipped', userId: 'alice' }])
      t.same((await alice.events(1)).map((e) => e.id), [live], 'and live events follow it')
      break
    }
    const { code, reason } = await within(alice.closed, 5000, 'the close after the replay')
    t.equal(code, 4009, 'closed as a slow consumer')
    since = events.at(-1)?.id as string
    t.equal(reason, `slow_consumer:${since}`, 'the close names the last event replayed')
  }
  t.same(received.map((e) => e.id), mine, 'every event of hers, once, in order')
})

t.test('with RESUME_CONCURRENCY=1 a short resume waits for the long one ahead of it; both complete', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url, RESUME_CONCURRENCY: '1', HISTORY_MAX_EVENTS: '100000' })
  await until(() => gw.app.bus.connected, 10_000, 'the bus to reach Redis')
  // Alice's resume reads 60 pages of someone else's events; Bob's reads one.
  let next = 0
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < 60) {
      next++
      await publish(gw.url, Array.from({ length: 100 }, () => ({ type: 'order.created', userId: 'victim' })))
    }
  }))
  const [alices, before, bobs] = await publish(gw.url, ['alice', 'victim', 'bob'].map((userId) => ({ type: 'order.created', userId })))
  const order: string[] = []
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const long = resume(alice, ['order.*'], '0-0').then((reply) => { order.push('alice'); return reply })
  // Connecting takes round trips: Alice's resume is reading by the time Bob's arrives.
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  const short = resume(bob, ['order.*'], before as string).then((reply) => { order.push('bob'); return reply })
  const [longReply, shortReply] = await Promise.all([long, short])
  t.same(order, ['alice', 'bob'], 'Bob\'s resume waited its turn')
  t.match(longReply.payload, { replayed: 1, truncated: false })
  t.match(shortReply.payload, { replayed: 1, truncated: false })
  t.same((await alice.events(1)).map((e) => e.id), [alices])
  t.same((await bob.events(1)).map((e) => e.id), [bobs])
})
