import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { createClient, type TruncatedInfo } from '../../src/client/index.js'
import { parsePosition } from '../../src/wire/position.js'
import { record, WebSocket } from '../helpers/client-support.js'
import { ScriptedGateway, type ScriptedRequest, type ScriptedSocket } from '../helpers/scripted-gateway.js'

/**
 * The client against a gateway played by the test, which can send what a gateway of several
 * partitions sends: ids of several partitions interleaved, and position tokens.
 */
async function start (t: Test, position?: string) {
  const gateway = await ScriptedGateway.start(t)
  const client = createClient({ url: gateway.url, getToken: () => 'token', WebSocket, auth: 'query', reconnect: { baseMs: 10, capMs: 50 } })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const socket = await gateway.socket(0)
  socket.connected()
  const subscribing = client.subscribe('orders.*', () => {})
  await socket.subscribed(position === undefined ? {} : { position })
  await subscribing
  const delivered = async (count: number): Promise<string[]> => {
    await until(() => seen.events.length >= count, 5000, `${count} events`)
    return seen.events.map((e) => e.id)
  }
  /** Closes the socket; the client reconnects at once and resubscribes on socket `n`. */
  const reconnect = async (from: ScriptedSocket, n: number, code = 1012, reason = ''): Promise<{ socket: ScriptedSocket, request: ScriptedRequest }> => {
    from.close(code, reason)
    const next = await gateway.socket(n)
    next.connected()
    return { socket: next, request: await next.next('subscribe') }
  }
  return { client, seen, socket, delivered, reconnect }
}

/** A position token as an object, whatever order its ids come in. */
const entries = (token: unknown): Record<string, string> | undefined => {
  const position = parsePosition(token)
  return position === undefined ? undefined : Object.fromEntries(position)
}

t.test('events of two partitions interleaved are all delivered: ids are compared within a partition only', async (t) => {
  const { client, socket, delivered, seen } = await start(t)
  for (const id of ['p3:10-0', 'b:5-0', 'p3:11-0', 'b:6-0']) socket.event(id)
  t.same(await delivered(4), ['p3:10-0', 'b:5-0', 'p3:11-0', 'b:6-0'])
  t.equal(client.lastEventId, 'b:6-0', 'the last event delivered, whatever its partition')
  t.same(entries(client.position), { p3: 'p3:11-0', b: 'b:6-0' })
  t.same(seen.errors, [])
})

t.test('a replay at or before its partition\'s entry is dropped; a lower id of another partition is delivered', async (t) => {
  const { socket, delivered } = await start(t)
  for (const id of ['p3:20-0', 'b:10-0', '7-0', 'p3:20-0', 'p3:19-5', 'b:10-0', '7-0', 'b:11-0']) socket.event(id)
  // b:11-0 comes last: once it is delivered, every replay before it has been dropped.
  t.same(await delivered(4), ['p3:20-0', 'b:10-0', '7-0', 'b:11-0'], 'an id without a partition is p0\'s')
})

t.test('a reconnect resumes every partition: since names each one\'s last event', async (t) => {
  const { client, socket, delivered, reconnect, seen } = await start(t)
  for (const id of ['p3:20-0', 'b:10-0']) socket.event(id)
  await delivered(2)
  const { socket: second, request } = await reconnect(socket, 1)
  t.same(request.payload.eventTypes, ['orders.*'])
  t.same(entries(request.payload.since), { p3: 'p3:20-0', b: 'b:10-0' })
  t.equal(request.payload.since, client.position, 'client.position is what the reconnect sent')
  second.reply(request, 'subscribed', { eventTypes: ['orders.*'], replayed: 2, truncated: false, position: 'p3:21-0,b:10-0' })
  for (const id of ['p3:20-0', 'p3:21-0', 'b:11-0']) second.event(id)
  t.same(await delivered(4), ['p3:20-0', 'b:10-0', 'p3:21-0', 'b:11-0'], 'the seam has no duplicate')
  t.same(seen.errors, [])
})

t.test('a subscribed position fills the partitions with no entry yet, and only those', async (t) => {
  const { client, socket, delivered, reconnect } = await start(t, 'p3:5-0,b:3-0')
  t.same(entries(client.position), { p3: 'p3:5-0', b: 'b:3-0' }, 'before any event: the reply\'s position')
  t.equal(client.lastEventId, undefined)
  socket.event('p3:7-0')
  await delivered(1)
  const billing = client.subscribe('billing.*', () => {})
  await socket.subscribed({ position: 'p3:9-0,b:4-0,a:2-0' })
  await billing
  t.same(entries(client.position), { p3: 'p3:7-0', b: 'b:3-0', a: 'a:2-0' }, 'a partition new to the client is filled, the others kept')
  const invalid = client.subscribe('audit.*', () => {})
  await socket.subscribed({ position: 'p5:1-0,p5:2-0' })
  await invalid
  t.same(entries(client.position), { p3: 'p3:7-0', b: 'b:3-0', a: 'a:2-0' }, 'a token naming a partition twice is ignored')
  const { request } = await reconnect(socket, 1)
  t.same(entries(request.payload.since), { p3: 'p3:7-0', b: 'b:3-0', a: 'a:2-0' })
})

t.test('truncated clears the position: the reply\'s position restarts it, and the replay that follows is delivered', async (t) => {
  const { client, socket, delivered, reconnect } = await start(t)
  const truncations: TruncatedInfo[] = []
  client.on('truncated', (info) => { truncations.push(info) })
  for (const id of ['p3:20-0', 'b:10-0']) socket.event(id)
  await delivered(2)
  const first = await reconnect(socket, 1)
  const since = first.request.payload.since
  first.socket.reply(first.request, 'subscribed', { eventTypes: ['orders.*'], replayed: 1, truncated: true, position: 'p3:30-0,b:12-0' })
  await until(() => truncations.length === 1, 5000, 'the truncated resume')
  t.same(truncations, [{ since, patterns: ['orders.*'] }], 'told with the position it resumed from')
  t.same(entries(client.position), { p3: 'p3:30-0', b: 'b:12-0' }, 'the old entries are gone')
  // The gateway could not place since (a history behind the client's): what it still holds
  // comes first, below the old entry and the reply's position alike, and the app has not seen it.
  first.socket.event('p3:15-0')
  first.socket.event('b:13-0')
  t.same(await delivered(4), ['p3:20-0', 'b:10-0', 'p3:15-0', 'b:13-0'])
  const second = await reconnect(first.socket, 2)
  t.same(entries(second.request.payload.since), { p3: 'p3:15-0', b: 'b:13-0' })
})

t.test('a slow-consumer close names one id: the reconnect still resumes every partition', async (t) => {
  const { socket, delivered, reconnect, seen } = await start(t)
  for (const id of ['b:10-0', 'p3:20-0']) socket.event(id)
  await delivered(2)
  const { request } = await reconnect(socket, 1, 4009, 'slow_consumer:p3:20-0')
  t.same(entries(request.payload.since), { p3: 'p3:20-0', b: 'b:10-0' })
  t.same(seen.errors.map((e) => e.code), ['CONNECTION_CLOSED'])
})

t.test('one partition: the position is one id, as a gateway of one partition takes it', async (t) => {
  const { client, socket, delivered, reconnect } = await start(t, '9-0')
  t.equal(client.position, '9-0')
  for (const id of ['10-0', '10-0', '11-0']) socket.event(id)
  t.same(await delivered(2), ['10-0', '11-0'])
  t.equal(client.position, '11-0')
  const { request } = await reconnect(socket, 1)
  t.equal(request.payload.since, '11-0')
})
