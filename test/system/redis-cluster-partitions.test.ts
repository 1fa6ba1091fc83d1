import t from 'tap'
import { until } from '../../harness/ports.js'
import { ask } from '../../harness/redis-cluster.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'
import { RedisCluster } from '../helpers/redis-cluster.js'

/**
 * The partitioned log on a real cluster of three masters (REDIS_PARTITIONS unset: 16): the load
 * spreads over the masters, and each of two instances reads only its own users' events and the
 * broadcasts. Figures go to the test's comments.
 */
const cluster = await RedisCluster.start(t)
const env = { REDIS_CLUSTER_NODES: cluster.seeds, ...LENIENT_LIMITS, RATE_LIMIT_PUBLISH: '1000000', WEBSOCKET_MESSAGE_BURST: '1000' }
const a = await startGateway(t, { ...env, SERVER_ID: 'a' })
const b = await startGateway(t, { ...env, SERVER_ID: 'b' })
await until(() => a.app.bus.connected && b.app.bus.connected, 10_000, 'both gateways to reach the cluster')

/** Runs `work` over `items` with at most `width` at once. */
async function pool<T> (items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++] as T)
  }))
}

const publish = async (gw: Gateway, events: unknown[], publisher = 'auth-service'): Promise<void> => {
  const res = await post(`${gw.url}/events`, { events }, serviceToken(publisher))
  if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body)}`)
}

/** Every command each master ran since its counters were reset (INFO commandstats). */
async function commands (port: number): Promise<number> {
  const stats = await ask(port, ['INFO', 'commandstats'])
  return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, [, calls]) => sum + Number(calls), 0)
}

/**
 * Each publisher's own state (its rate-limit counter, its revocation check: four commands a
 * request) lives in the slot of its name, so ten services publish here, as the backends of a
 * real deployment do; the event log's commands follow the partitions.
 */
const PUBLISHERS = 10

t.test('10,000 users, one event each: no master carries more than 1.3× the mean share of commands', async (t) => {
  await Promise.all(cluster.masters.map(async (m) => await ask(m.port, ['CONFIG', 'RESETSTAT'])))
  const users = Array.from({ length: 10_000 }, (_, i) => i)
  await pool(users, 32, async (i) => { await publish(i % 2 === 0 ? a : b, [{ type: 'share.sent', userId: `share-${i}` }], `service-${i % PUBLISHERS}`) })
  const counts = await Promise.all(cluster.masters.map(async (m) => await commands(m.port)))
  const mean = counts.reduce((x, y) => x + y, 0) / counts.length
  const worst = Math.max(...counts) / mean
  t.comment(`commands per master: ${counts.join(', ')}; the busiest carries ${worst.toFixed(2)}× the mean`)
  t.ok(worst <= 1.3, `the busiest master carries ${worst.toFixed(2)}× the mean share`)
})

t.test('two instances with 1,000 users each: each receives its users\' events and every broadcast, no other', async (t) => {
  const users = Array.from({ length: 2000 }, (_, i) => `reader-${i}`)
  const clients: TestClient[] = []
  await pool(users, 50, async (userId) => {
    const gw = Number(userId.slice(7)) % 2 === 0 ? a : b
    const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(userId))
    await client.subscribe('load.*')
    clients.push(client)
  })
  const before = [a, b].map((gw) => gw.app.hub.stats())
  const batches = [
    ...Array.from({ length: 100 }, (_, batch) => Array.from({ length: 100 }, (_, i) => ({ type: 'load.sent', userId: users[(batch * 100 + i) % users.length], data: { batch } }))),
    Array.from({ length: 20 }, (_, batch) => ({ type: 'load.notice', data: { batch } }))
  ]
  await pool(batches, 8, async (events) => { await publish(batches.indexOf(events) % 2 === 0 ? a : b, events) })
  const expected = 10_000 + 20 * users.length
  const delivered = (): number => [a, b].reduce((sum, gw, i) => sum + gw.app.hub.stats().deliveries - (before[i]?.deliveries ?? 0), 0)
  await until(() => delivered() >= expected, 60_000, `${expected} deliveries`)
  const received = [a, b].map((gw, i) => gw.app.hub.stats().eventsReceived - (before[i]?.eventsReceived ?? 0))
  t.comment(`10,000 user events and 20 broadcasts published: instance a received ${received[0]}, instance b ${received[1]}`)
  t.same(received, [5020, 5020], 'each: the 5,000 events of its own users and the 20 broadcasts')
  t.equal(delivered(), expected, 'each event to its user, each broadcast to all 2,000')
  t.equal((await clients[0]?.events(25))?.length, 25, 'a user\'s five events and the twenty broadcasts')
  for (const client of clients) client.close()
})

t.test('rooms on the cluster: an instance receives only the rooms its sockets are in, each event once', async (t) => {
  const rooms = Array.from({ length: 8 }, (_, i) => `room-${i}`)
  // Instance a holds members of the first four rooms, b of the last four; one member of rooms 3 and 4 on each.
  const members = await Promise.all(rooms.map(async (room, i) => {
    const gw = i < 4 ? a : b
    const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(`member-${i}`, { groups: i === 3 || i === 4 ? ['room-3', 'room-4'] : [room] }))
    await client.subscribe('room.*')
    return client
  }))
  // Room events only: the members' own lifecycle events (session.created) may still be on their way.
  const received = [0, 0]
  for (const [i, gw] of [a, b].entries()) gw.app.afterDelivery(({ event }) => { if (event.groups !== undefined) received[i] = (received[i] ?? 0) + 1 })
  await publish(a, rooms.map((room) => ({ type: 'room.notice', groups: [room], data: { room } })))
  await publish(b, [{ type: 'room.both', groups: ['room-3', 'room-4'] }])
  for (const [i, client] of members.entries()) {
    const inBoth = i === 3 || i === 4
    const expected = inBoth ? ['room-3', 'room-4'] : [rooms[i]]
    const got = await client.events(expected.length + (inBoth ? 1 : 0))
    t.same(got.filter((e) => e.type === 'room.notice').map((e) => (e.data as { room: string }).room).sort(), expected, `member ${i}: its rooms' events`)
    if (inBoth) t.equal(got.filter((e) => e.type === 'room.both').length, 1, `member ${i}: the two-room event`)
  }
  // A marker to every room: whatever else was on its way (a second copy) came before it.
  await publish(a, [{ type: 'room.marker', groups: rooms }])
  for (const client of members) await client.next((f) => f.type === 'event' && f.payload.type === 'room.marker', 10_000)
  for (const [i, client] of members.entries()) t.same(client.frames.filter((f) => f.type === 'event'), [], `member ${i}: nothing more, no second copy`)
  const partitioning = a.app.bus.partitioning
  const copies = (held: string[]) => (events: string[][]) => events.reduce((sum, groups) => sum + new Set(groups.map((r) => partitioning.ofRoom(r)).filter((p) => held.some((r) => partitioning.ofRoom(r) === p))).size, 0)
  const published = [...rooms.map((room) => [room]), ['room-3', 'room-4'], rooms]
  const expected = [copies(['room-0', 'room-1', 'room-2', 'room-3', 'room-4'])(published), copies(['room-3', 'room-4', 'room-5', 'room-6', 'room-7'])(published)]
  t.comment(`8 room events, a two-room event and an eight-room marker (in their copies): instance a received ${received[0]}, b ${received[1]}`)
  t.same(received, expected, 'each instance receives the copies in its members\' rooms\' partitions, no other')
  for (const client of members) client.close()
})
