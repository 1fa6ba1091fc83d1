import t from 'tap'
import { until } from '../../harness/ports.js'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { createClient, type GatewayEvent } from '../../src/client/index.js'
import { Partitioning } from '../../src/partitions.js'
import { partitionOf } from '../../src/wire/event-id.js'
import { parsePosition } from '../../src/wire/position.js'
import { WebSocket } from '../helpers/client-support.js'
import { connectAs, type TestClient } from '../helpers/client.js'
import { startPair } from '../helpers/cluster.js'
import { type Gateway, post } from '../helpers/gateway.js'

/**
 * A partitioned event log on one redis-server (REDIS_PARTITIONS=4): the same code a cluster runs,
 * where a test starts in a second. Two gateways; each reads only what its sockets receive.
 */
const PARTITIONS = 4
const partitioning = new Partitioning(PARTITIONS)
const { a, b } = await startPair(t, { REDIS_PARTITIONS: String(PARTITIONS), HEALTH_CANARY_INTERVAL: '200' })

/** Users of distinct partitions, found by hashing: `users[i]` lives in `p<i>`. */
const users = Array.from({ length: PARTITIONS }, (_, i) => {
  for (let k = 0; ; k++) if (partitioning.ofUser(`user-${i}-${k}`) === `p${i}`) return `user-${i}-${k}`
})

const publish = async (gw: Gateway, events: unknown[]): Promise<string[]> => {
  const res = await post(`${gw.url}/events`, { events }, serviceToken())
  if (res.status !== 202) throw new Error(`publish answered ${res.status}`)
  return res.body.ids as string[]
}
const stream = async (gw: Gateway, bearer: string, path = '/ws/events'): Promise<TestClient> => await connectAs(t, `${gw.wsUrl}${path}`, bearer)
const received = (gw: Gateway): number => gw.app.hub.stats().eventsReceived

t.test('ids name their partition: a user\'s, the broadcasts\', the admin audience\'s', async (t) => {
  const ids = await publish(a, [{ type: 'order.created', userId: users[2] }, { type: 'system.notice' }, { type: 'admin.user.locked' }])
  t.same(ids.map(partitionOf), ['p2', 'b', 'a'])
})

t.test('an instance reads the partitions of its sockets\' users and the broadcasts, and no other', async (t) => {
  const onA = await stream(a, userToken(users[0] as string))
  const onB = await stream(b, userToken(users[1] as string))
  const { payload } = await onA.subscribe('order.*')
  t.same([...(parsePosition(payload.position) ?? new Map()).keys()], ['p0', 'b'], 'the position names the user\'s partition and the broadcasts')
  await onB.subscribe('order.*')
  const [startA, startB] = [received(a), received(b)]
  await publish(a, [
    ...Array.from({ length: 30 }, (_, n) => ({ type: 'order.created', userId: users[0], data: { n } })),
    ...Array.from({ length: 20 }, (_, n) => ({ type: 'order.created', userId: users[1], data: { n } })),
    ...Array.from({ length: 10 }, (_, n) => ({ type: 'order.created', userId: users[3], data: { n } })),
    ...Array.from({ length: 5 }, (_, n) => ({ type: 'order.broadcast', data: { n } }))
  ])
  t.equal((await onA.events(35)).length, 35)
  t.equal((await onB.events(25)).length, 25)
  await until(() => received(a) - startA >= 35 && received(b) - startB >= 25, 5000, 'both to receive their share')
  t.equal(received(a) - startA, 35, 'a: its user\'s 30 and the 5 broadcasts, not the 30 of other partitions')
  t.equal(received(b) - startB, 25, 'b: its user\'s 20 and the 5 broadcasts')
  onA.close()
  onB.close()
})

t.test('an admin stream reads every partition', async (t) => {
  const admin = await stream(b, adminToken(), '/ws/admin')
  const reply = await admin.subscribe('audit.*')
  t.same([...(parsePosition(reply.payload.position) ?? new Map()).keys()].sort(), [...partitioning.all].sort())
  const ids = await publish(a, users.map((userId) => ({ type: 'audit.seen', userId })))
  t.same(new Set((await admin.events(PARTITIONS)).map((e) => e.id)), new Set(ids), 'one event of each partition')
  admin.close()
})

t.test('a resume on the other instance replays every partition from the position, each in order, none twice', async (t) => {
  const user = users[3] as string
  const first = await stream(a, userToken(user))
  const { payload } = await first.subscribe('bill.*')
  const [seen] = await publish(b, [{ type: 'bill.sent', userId: user, data: { n: -1 } }])
  t.equal((await first.events(1))[0]?.id, seen)
  const position = `${seen as string},${parsePosition(payload.position)?.get('b') as string}`
  first.close()
  await first.closed
  const missed = await publish(a, [
    { type: 'bill.sent', userId: user, data: { n: 0 } },
    { type: 'bill.maintenance' },
    { type: 'bill.sent', userId: user, data: { n: 1 } },
    { type: 'bill.sent', userId: users[1], data: { n: 9 } },
    { type: 'bill.maintenance' }
  ])
  const again = await stream(b, userToken(user))
  const reply = await again.request('subscribe', { eventTypes: ['bill.*'], since: position })
  t.match(reply.payload, { replayed: 4, truncated: false })
  const replayed = await again.events(4)
  t.same(replayed.filter((e) => e.userId === user).map((e) => e.id), [missed[0], missed[2]], 'the user\'s partition in order')
  t.same(replayed.filter((e) => e.userId === undefined).map((e) => e.id), [missed[1], missed[4]], 'the broadcasts in order')
  const [live] = await publish(a, [{ type: 'bill.sent', userId: user, data: { n: 2 } }])
  t.equal((await again.events(1))[0]?.id, live, 'then live, nothing twice')
  again.close()
})

t.test('a position that leaves out a partition the stream reads is truncated; a malformed one is refused', async (t) => {
  const user = users[2] as string
  const client = await stream(b, userToken(user))
  const [own] = await publish(a, [{ type: 'x.y', userId: user }])
  const reply = await client.request('subscribe', { eventTypes: ['x.*'], since: own })
  t.match(reply.payload, { truncated: true }, 'the broadcasts since then cannot be placed')
  for (const since of ['p2:1-1,p2:1-2', 'q:1-1', 'p2:1-1,']) {
    t.match((await client.request('subscribe', { eventTypes: ['z.*'], since })).payload, { code: 'INVALID_MESSAGE' }, since)
  }
  client.close()
})

t.test('the SDK keeps a position per partition and resumes every partition after a drop', async (t) => {
  const user = users[1] as string
  const client = createClient({ url: a.url, getToken: () => userToken(user), WebSocket, reconnect: { baseMs: 200, capMs: 400 } })
  t.teardown(async () => { await client.close() })
  const seen: GatewayEvent[] = []
  await client.subscribe('sdk.*', (event) => { seen.push(event) })
  const before = await publish(b, [{ type: 'sdk.own', userId: user }, { type: 'sdk.all' }])
  await until(() => seen.length === 2, 5000, 'the first two events')
  t.same([...(parsePosition(client.position) ?? new Map()).values()].sort(), [...before].sort(), 'the position names both partitions')
  a.app.hub.closeAll(1013, 'try_again_later')
  const away = await publish(b, [{ type: 'sdk.own', userId: user }, { type: 'sdk.all' }, { type: 'sdk.own', userId: user }, { type: 'sdk.all' }])
  await until(() => seen.length === 6, 10_000, 'the events published while the socket was down')
  const ids = seen.map((e) => e.id)
  t.equal(new Set(ids).size, 6, 'none twice')
  t.same(ids.filter((id) => partitionOf(id) === 'p1'), [before[0], away[0], away[2]], 'the user\'s partition in order')
  t.same(ids.filter((id) => partitionOf(id) === 'b'), [before[1], away[1], away[3]], 'the broadcasts in order')
})
