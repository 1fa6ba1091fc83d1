import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import type { RedisServer } from '../../harness/redis.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { partitionNames } from '../../src/bus/redis-log.js'
import { createClient, type GatewayEvent } from '../../src/client/index.js'
import { Partitioning } from '../../src/partitions.js'
import { localId } from '../../src/wire/event-id.js'
import { WebSocket } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, get, post, startGateway } from '../helpers/gateway.js'
import { RedisCluster } from '../helpers/redis-cluster.js'

/** The gateways run the cluster's default partitions: each test kills the master of the partition it publishes to. */
const partitioning = new Partitioning(16)
const ALICE_HISTORY = partitionNames(partitioning.tag(partitioning.ofUser('alice'))).history
const BROADCAST_HISTORY = partitionNames(partitioning.tag('b')).history

/**
 * The master serving the partition is SIGKILLed under steady publishing through two gateways,
 * and its replica promoted; no gateway is restarted. The killed node is then started again and
 * rejoins as the new master's replica, so the next scenario has a replica to fail over to.
 */
const cluster = await RedisCluster.start(t)
const PACE_MS = 15
const FAILOVER_MS = 30_000

interface Publisher { accepted: string[], refused: number, refusals: { first?: number, last?: number }, latencies: number[], stop: () => Promise<void> }

/**
 * One event at a time, alternating between the gateways, at about 50 a second. A refusal (503)
 * is retried with the same Idempotency-Key until accepted: the retry never publishes twice.
 */
function steadyPublisher (gateways: readonly Gateway[], label: string): Publisher {
  const state: Publisher = { accepted: [], refused: 0, refusals: {}, latencies: [], stop: async () => { running = false; await done } }
  let running = true
  const done = (async () => {
    for (let n = 0; running; n++) {
      const key = `${label}-${n}`
      for (let attempt = 0; ; attempt++) {
        const gateway = gateways[(n + attempt) % gateways.length] as Gateway
        const started = performance.now()
        const res = await post(`${gateway.url}/events`, { type: `${label}.tick`, userId: 'alice', data: { n } }, serviceToken('steady'), { 'idempotency-key': key })
        if (res.status === 202) {
          state.latencies.push(performance.now() - started)
          state.accepted.push(...res.body.ids as string[])
          break
        }
        if (res.status !== 503) throw new Error(`POST /events answered ${res.status}: ${JSON.stringify(res.body)}`)
        state.refused++
        state.refusals.first ??= performance.now()
        state.refusals.last = performance.now()
        await new Promise((resolve) => setTimeout(resolve, PACE_MS))
      }
      await new Promise((resolve) => setTimeout(resolve, PACE_MS))
    }
  })()
  return state
}

/** Polls /ws/health on every gateway, recording when any first and last answered 503. */
function healthWatch (gateways: readonly Gateway[]) {
  const window = { first: undefined as number | undefined, last: undefined as number | undefined }
  let running = true
  const done = (async () => {
    while (running) {
      const statuses = await Promise.all(gateways.map(async (g) => (await get(`${g.url}/ws/health`)).status))
      if (statuses.some((s) => s !== 200)) {
        window.first ??= performance.now()
        window.last = performance.now()
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  return { window, stop: async () => { running = false; await done } }
}

const p = (values: number[], q: number): number => Math.round([...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * q))] ?? 0)

async function failover (t: Test, label: string, env: Record<string, string>) {
  const shared = { REDIS_CLUSTER_NODES: cluster.seeds, HEALTH_CANARY_INTERVAL: '200', RATE_LIMIT_PUBLISH: '1000000', ...LENIENT_LIMITS, ...env }
  const gateways = [await startGateway(t, { ...shared, SERVER_ID: `${label}-a` }), await startGateway(t, { ...shared, SERVER_ID: `${label}-b` })]
  await until(() => gateways.every((g) => g.app.bus.connected), 10_000, 'both gateways to reach the cluster')
  const subscribers = await Promise.all(gateways.map(async (g) => {
    const client = createClient({ url: g.url, getToken: () => userToken('alice'), WebSocket, reconnect: { baseMs: 50, capMs: 400 } })
    t.teardown(async () => { await client.close() })
    const handled: GatewayEvent[] = []
    await client.subscribe(`${label}.*`, (e) => { handled.push(e) })
    return handled
  }))

  const publisher = steadyPublisher(gateways, label)
  t.teardown(publisher.stop)
  await until(() => publisher.accepted.length >= 100, 20_000, 'events before the kill')
  const health = healthWatch(gateways)
  t.teardown(health.stop)
  const master = await cluster.masterOf(ALICE_HISTORY)
  const killedAt = performance.now()
  const beforeKill = publisher.accepted.length
  await cluster.kill(master)
  const promoted = await cluster.servesAgain(ALICE_HISTORY, FAILOVER_MS)
  const promotedAt = performance.now()
  await cluster.rejoin(master, FAILOVER_MS)
  const rejoinedAt = performance.now()
  await until(() => publisher.accepted.length >= beforeKill + 200, FAILOVER_MS, 'publishing to resume')
  const resumedAt = performance.now()
  await until(async () => (await Promise.all(gateways.map(async (g) => (await get(`${g.url}/ws/health`)).status))).every((s) => s === 200), FAILOVER_MS, 'health to be 200 again')
  await publisher.stop()
  await health.stop()

  const accepted = publisher.accepted
  const acceptedSet = new Set(accepted)
  await until(() => subscribers.every((handled) => handled.length > 0 && handled[handled.length - 1]?.id === accepted[accepted.length - 1]), 10_000, 'the last accepted event everywhere')
  const report = subscribers.map((handled) => {
    const ids = handled.map((e) => e.id)
    const seen = new Set(ids)
    return { delivered: ids.length, lost: accepted.filter((id) => !seen.has(id)), duplicates: ids.length - seen.size, foreign: ids.filter((id) => !acceptedSet.has(id)).length, ids }
  })
  const at = (ms: number | undefined): string => ms === undefined ? 'never' : `${Math.round(ms - killedAt)} ms`
  t.comment(`${label}: promoted ${promoted.port} after ${at(promotedAt)}, rejoined after ${at(rejoinedAt)}, publishing resumed by ${at(resumedAt)}`)
  t.comment(`${label}: health 503 from ${at(health.window.first)} to ${at(health.window.last)}; ${publisher.refused} publishes refused (503) and retried, from ${at(publisher.refusals.first)} to ${at(publisher.refusals.last)}`)
  t.comment(`${label}: accepted ${accepted.length}, delivered ${report.map((r) => r.delivered).join(' / ')}, lost ${report.map((r) => r.lost.length).join(' / ')}`)
  t.comment(`${label}: publish latency p50 ${p(publisher.latencies, 0.5)} ms, p99 ${p(publisher.latencies, 0.99)} ms over ${publisher.latencies.length}`)
  t.not(promoted.port, master.port, 'a replica took over the slot')
  t.ok(health.window.first !== undefined, 'health was 503 while the partition had no master')
  for (const r of report) {
    t.equal(r.duplicates, 0, 'no event twice')
    t.equal(r.foreign, 0, 'nothing that was not accepted')
    t.same(r.ids, accepted.filter((id) => !r.lost.includes(id)), 'in accepted order')
  }
  return { report, accepted }
}

t.test('the cost of WAIT on a calm cluster: publish latency with and without a replica to wait for', async (t) => {
  const shared = { REDIS_CLUSTER_NODES: cluster.seeds, RATE_LIMIT_PUBLISH: '1000000', ...LENIENT_LIMITS }
  for (const [label, env] of [['without', {}], ['with', { REDIS_WAIT_REPLICAS: '1' }]] as const) {
    const gateway = await startGateway(t, { ...shared, ...env })
    await until(() => gateway.app.bus.connected, 10_000, 'the gateway to reach the cluster')
    const latencies: number[] = []
    for (let n = 0; n < 400; n++) {
      const started = performance.now()
      const res = await post(`${gateway.url}/events`, { type: 'latency.tick', userId: 'zoe' }, serviceToken('latency'))
      if (n >= 100) latencies.push(performance.now() - started)
      t.equal(res.status, 202, 'accepted', { diagnostic: res.status !== 202 })
    }
    t.comment(`${label} REDIS_WAIT_REPLICAS: publish p50 ${p(latencies, 0.5)} ms, p99 ${p(latencies, 0.99)} ms over ${latencies.length} (after 100 warm-up)`)
    await gateway.close()
  }
})

t.test('without REDIS_WAIT_REPLICAS: publishing resumes without a restart; only the last replication lag may be lost', async (t) => {
  const { report } = await failover(t, 'nowait', {})
  t.same(report[0]?.lost, report[1]?.lost, 'both subscribers miss the same events, if any')
})

t.test('with REDIS_WAIT_REPLICAS=1: no accepted event is lost; publishing resumes once the new master has a replica', async (t) => {
  const { report, accepted } = await failover(t, 'wait', { REDIS_WAIT_REPLICAS: '1' })
  for (const r of report) t.same(r.ids, accepted, 'every accepted event, once, in order')
})

/** One command on a short-lived connection to one node. */
async function on (node: RedisServer, ...command: [string, ...Array<string | number>]): Promise<unknown> {
  const redis = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    return await redis.call(...command)
  } finally {
    redis.disconnect()
  }
}

t.test('the loss window, held open: acknowledged without WAIT and lost; with WAIT, refused instead', async (t) => {
  const shared = { REDIS_CLUSTER_NODES: cluster.seeds, RATE_LIMIT_PUBLISH: '1000000', ...LENIENT_LIMITS }
  const fast = await startGateway(t, shared)
  const durable = await startGateway(t, { ...shared, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '5000' })
  await until(() => fast.app.bus.connected && durable.app.bus.connected, 10_000, 'the gateways to reach the cluster')
  const publish = async (gw: Gateway, n: number) => await post(`${gw.url}/events`, { type: 'window.tick', data: { n } }, serviceToken('window'))
  t.equal((await publish(durable, -1)).status, 202, 'a replica holds what came before')

  // The replica frozen and its link cut, the master acknowledges writes no replica has, and
  // dies with them; the replica, thawed at once, is promoted without them.
  const master = await cluster.masterOf(BROADCAST_HISTORY)
  const port = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(String(await on(master, 'INFO', 'replication')))?.[1])
  const replica = cluster.nodes.find((n) => n.port === port) as RedisServer
  replica.signal('SIGSTOP')
  t.teardown(() => replica.signal('SIGCONT'))
  await on(master, 'CLIENT', 'KILL', 'TYPE', 'replica')
  const fastIds = (await Promise.all([0, 1, 2, 3, 4].map(async (n) => await publish(fast, n)))).flatMap((r) => r.body.ids as string[])
  t.equal(fastIds.length, 5, 'five events acknowledged while no replica was linked')
  const written = Number(await on(master, 'XLEN', BROADCAST_HISTORY))
  const waiting = publish(durable, 0)
  await until(async () => Number(await on(master, 'XLEN', BROADCAST_HISTORY)) === written + 1, 5000, 'the master to write what the durable gateway publishes')
  await cluster.kill(master)
  replica.signal('SIGCONT')
  t.equal((await cluster.servesAgain(BROADCAST_HISTORY, FAILOVER_MS)).port, replica.port, 'the thawed replica took over')
  const durableStatus = (await waiting).status
  await cluster.rejoin(master, FAILOVER_MS)

  const survivor = await cluster.masterOf(BROADCAST_HISTORY)
  const kept = await Promise.all(fastIds.map(async (id) => (await on(survivor, 'XRANGE', BROADCAST_HISTORY, localId(id), localId(id)) as unknown[]).length))
  const lost = kept.filter((n) => n === 0).length
  t.comment(`loss window held open: ${lost} of ${fastIds.length} acknowledged events lost without WAIT; with WAIT=1 the publish meanwhile answered ${durableStatus}`)
  t.equal(lost, fastIds.length, 'without WAIT, what the replica never got is gone')
  t.equal(durableStatus, 503, 'with WAIT, it was not acknowledged')
})
