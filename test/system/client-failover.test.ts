import t from 'tap'
import { freePort, until } from '../../harness/ports.js'
import { type GatewayProcess, startGatewayProcess } from '../../harness/process.js'
import { RedisServer } from '../../harness/redis.js'
import { userToken } from '../../harness/tokens.js'
import { createClient, type GatewayEvent, type TruncatedInfo } from '../../src/client/index.js'
import { compareIds } from '../../src/wire/event-id.js'
import { Balancer, type Draft, portOf, publish, record, WebSocket } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { startGateway } from '../helpers/gateway.js'

const ENV = { ...LENIENT_LIMITS, RATE_LIMIT_PUBLISH: '1000000' }
const RESTART_MS = 30_000

/** alice's events, bob's (which alice must not see) and broadcasts, in turn. */
const draft = (i: number): Draft => ({ type: 'orders.created', ...(i % 3 === 2 ? {} : { userId: i % 3 === 0 ? 'alice' : 'bob' }), data: { i } })
const forAlice = (ids: string[]): string[] => ids.filter((_, i) => i % 3 !== 1)

/** Publishes one event at a time, each once accepted, until stopped: a steady stream across a fault. */
function steadyPublisher (httpUrl: string) {
  const ids: string[] = []
  let running = true
  const done = (async () => {
    while (running) ids.push(...await publish(httpUrl, [draft(ids.length)]))
  })()
  return { ids, stop: async () => { running = false; await done } }
}

function inOrderOnce (events: GatewayEvent[]): boolean {
  return events.every((e, i) => i === 0 || compareIds((events[i - 1] as GatewayEvent).id, e.id) < 0)
}

t.test('instance restart: the client resumes with since; nothing lost, nothing twice, in order', async (t) => {
  const redis = await RedisServer.start(t)
  const port = String(await freePort())
  let gateway: GatewayProcess = await startGatewayProcess(t, { ...ENV, REDIS_URL: redis.url, PORT: port })
  const publisher = await startGateway(t, { ...ENV, REDIS_URL: redis.url })
  await until(() => publisher.app.bus.connected, 10_000, 'the publishing instance to reach Redis')

  const client = createClient({ url: gateway.url, getToken: () => userToken('alice'), WebSocket, reconnect: { baseMs: 50, capMs: 400 } })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const handled: GatewayEvent[] = []
  await client.subscribe('orders.*', (e) => { handled.push(e) })

  const stream = steadyPublisher(publisher.url)
  t.teardown(stream.stop)
  await until(() => handled.length >= 20, 10_000, 'events before the restart')
  await gateway.kill('SIGKILL')
  await until(() => client.state === 'reconnecting', 5000, 'the client to notice')
  const missedFrom = stream.ids.length
  gateway = await startGatewayProcess(t, { ...ENV, REDIS_URL: redis.url, PORT: port })
  await until(() => client.state === 'open', RESTART_MS, 'the client to reconnect')
  const atReconnect = stream.ids.length
  await until(() => stream.ids.length >= atReconnect + 30, 10_000, 'events after the restart')
  await stream.stop()

  const expected = forAlice(stream.ids)
  await until(() => handled.length >= expected.length, 10_000, `all ${expected.length} of alice's events`)
  t.ok(atReconnect > missedFrom, `events were published while the instance was down (${atReconnect - missedFrom})`)
  t.same(handled.map((e) => e.id), expected, 'every event once, in publish order')
  t.ok(inOrderOnce(seen.events), 'ids strictly increasing')
  t.notOk(handled.some((e) => e.userId === 'bob'), 'nothing of bob\'s')
  t.same(seen.states.filter((s) => s !== 'reconnecting'), ['open', 'open'], 'one reconnect (its retries say reconnecting)')
  t.same(seen.errors, [])
})

t.test('a restart that lost the history: truncated is reported, and events flow on', async (t) => {
  const port = String(await freePort())
  let gateway: GatewayProcess = await startGatewayProcess(t, { ...ENV, PORT: port })
  const client = createClient({ url: gateway.url, getToken: () => userToken('alice'), WebSocket, reconnect: { baseMs: 50, capMs: 400 } })
  t.teardown(async () => { await client.close() })
  const truncations: TruncatedInfo[] = []
  client.on('truncated', (info) => { truncations.push(info) })
  const handled: GatewayEvent[] = []
  await client.subscribe('orders.*', (e) => { handled.push(e) })
  const [first] = await publish(gateway.url, [draft(0)])
  await until(() => handled.length === 1, 5000, 'the first event')

  await gateway.kill('SIGKILL')
  gateway = await startGatewayProcess(t, { ...ENV, PORT: port })
  await until(() => truncations.length === 1, RESTART_MS, 'the truncated resume')
  t.same(truncations, [{ since: first, patterns: ['orders.*'] }])
  const [after] = await publish(gateway.url, [draft(3)])
  await until(() => handled.length === 2, 5000, 'an event from the new instance')
  t.equal(handled[1]?.id, after)
})

t.test('a dead connection (SIGSTOP): noticed within interval + grace, resumed on another instance', async (t) => {
  const heartbeatMs = 500
  const graceMs = 500
  const redis = await RedisServer.start(t)
  const stopped = await startGatewayProcess(t, { ...ENV, REDIS_URL: redis.url, WEBSOCKET_HEARTBEAT_INTERVAL: String(heartbeatMs) })
  const survivor = await startGateway(t, { ...ENV, REDIS_URL: redis.url, WEBSOCKET_HEARTBEAT_INTERVAL: String(heartbeatMs) })
  await until(() => survivor.app.bus.connected, 10_000, 'the second instance to reach Redis')
  const balancer = await Balancer.start(t, portOf(stopped.url))

  const client = createClient({ url: balancer.url, getToken: () => userToken('alice'), WebSocket, heartbeatGraceMs: graceMs, reconnect: { baseMs: 50, capMs: 400 } })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const handled: GatewayEvent[] = []
  await client.subscribe('orders.*', (e) => { handled.push(e) })
  const before = await publish(survivor.url, [draft(0)])
  await until(() => handled.length === 1, 5000, 'an event through the first instance')

  // The instance freezes with the socket open: no close, no FIN, no pong. A load balancer's
  // health check would take it out of rotation, as the switch does here.
  stopped.child.kill('SIGSTOP')
  t.teardown(() => { stopped.child.kill('SIGCONT') })
  const frozenAt = Date.now()
  balancer.target = portOf(survivor.url)
  const during = await publish(survivor.url, [draft(3)])
  await until(() => client.state === 'reconnecting', 5000, 'the client to declare the connection dead')
  const noticedMs = Date.now() - frozenAt
  t.ok(noticedMs <= heartbeatMs + graceMs + 400, `noticed in ${noticedMs} ms (interval ${heartbeatMs} + grace ${graceMs})`)
  await until(() => client.state === 'open', 10_000, 'the client to reconnect through the balancer')
  t.equal(survivor.app.hub.size, 1, 'now on the other instance')
  const after = await publish(survivor.url, [draft(6)])
  await until(() => handled.length === 3, 5000, 'the missed event and the next')
  t.same(handled.map((e) => e.id), [...before, ...during, ...after], 'the event sent while frozen was resumed, once')
  t.same(seen.errors, [])
})
