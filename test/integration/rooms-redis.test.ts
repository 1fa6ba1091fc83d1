import t, { type Test } from 'tap'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { Partitioning } from '../../src/partitions.js'
import { connectAs, type Frame, type TestClient } from '../helpers/client.js'
import { startPair } from '../helpers/cluster.js'
import { type Gateway, post } from '../helpers/gateway.js'

const isEvent = (type: string) => (f: Frame): boolean => f.type === 'event' && f.payload.type === type
const publish = async (gw: Gateway, body: unknown) => await post(`${gw.url}/events`, body, serviceToken())

async function member (t: Test, gw: Gateway, userId: string, claims: Record<string, unknown>, ...patterns: string[]): Promise<TestClient> {
  const client = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(userId, claims))
  if (patterns.length > 0) await client.subscribe(...patterns)
  return client
}

/** Two rooms whose events live in different partitions of `count`. */
function roomsApart (count: number): [string, string] {
  const partitioning = new Partitioning(count)
  const first = 'red'
  const second = ['blue', 'green', 'amber', 'teal', 'navy'].find((room) => partitioning.ofRoom(room) !== partitioning.ofRoom(first))
  return [first, second as string]
}

for (const [name, env] of [['one partition', {}], ['a partitioned log', { REDIS_PARTITIONS: '4' }]] as const) {
  t.test(`on two gateways on Redis (${name}): rooms reach their members on every instance, once`, async (t) => {
    const { a, b } = await startPair(t, env)
    const [red, blue] = roomsApart(4)
    const onB = await member(t, b, 'bob', { groups: [red] }, '*')
    const both = await member(t, b, 'carol', { groups: [red, blue] }, 'incident.*', 'room.*')
    const outsider = await member(t, b, 'dave', {}, '*')
    const writer = await member(t, a, 'alice', { rooms: { [red]: 'write' } })
    const joined = await writer.request('join', { room: red })
    t.match(joined, { type: 'room_joined', payload: { room: red, position: /./ } })
    t.match((await onB.next(isEvent('room.user_joined'))).payload, { data: { userId: 'alice', room: red } }, 'presence crosses instances')
    const sent = await writer.request('publish', { room: red, type: 'room.message', data: { text: 'hello' } })
    t.match((await onB.next(isEvent('room.message'))).payload, { id: sent.payload.id, sender: 'alice', groups: [red] })
    const [id] = (await publish(a, { type: 'incident.opened', groups: [blue, red], userId: 'dave' })).body.ids as string[]
    const seen = await both.next(isEvent('incident.opened'))
    t.same(seen.payload.groups, [blue, red])
    await onB.next(isEvent('incident.opened'))
    await outsider.next(isEvent('incident.opened'))
    // A marker after the event: by then a second copy would have arrived too.
    await publish(a, { type: 'room.marker', groups: [red] })
    await both.next(isEvent('room.marker'))
    await onB.next(isEvent('room.marker'))
    t.same([both, onB, outsider].map((c) => c.frames.filter(isEvent('incident.opened')).length), [0, 0, 0], 'each receives the event once')
    if (name === 'one partition') t.equal(seen.payload.id, id, 'one copy, the id the publisher got')
    else t.equal(String(seen.payload.id).split(':')[0], new Partitioning(4).ofRoom(blue), 'a member of both takes the first room\'s copy')
  })

  t.test(`on two gateways on Redis (${name}): a member cap holds across instances`, async (t) => {
    const { a, b } = await startPair(t, { ...env, ROOM_MAX_MEMBERS: '2' })
    const grants = { rooms: { ops: 'read' } }
    const first = await member(t, a, 'u1', grants)
    const second = await member(t, b, 'u2', grants)
    const third = await member(t, a, 'u3', grants)
    t.match(await first.request('join', { room: 'ops' }), { type: 'room_joined' })
    t.match(await second.request('join', { room: 'ops' }), { type: 'room_joined' })
    t.match(await third.request('join', { room: 'ops' }), { payload: { code: 'ROOM_FULL' } })
    t.match(await second.request('leave', { room: 'ops' }), { type: 'room_left' })
    t.match(await third.request('join', { room: 'ops' }), { type: 'room_joined' })
  })

  t.test(`on two gateways on Redis (${name}): a member resumes its room's events on another instance`, async (t) => {
    const { a, b } = await startPair(t, env)
    const grants = { rooms: { war: 'read' } }
    const first = await member(t, a, 'alice', grants)
    const joined = await first.request('join', { room: 'war' })
    const subscribed = await first.request('subscribe', { eventTypes: ['x.*'] })
    const position = String(subscribed.payload.position)
    t.ok(position.length > 0 && joined.type === 'room_joined')
    first.close()
    await first.closed
    await publish(a, { type: 'x.missed', room: 'war', data: { n: 1 } })
    await publish(a, { type: 'x.elsewhere', room: 'peace' })
    const back = await member(t, b, 'alice', grants)
    await back.request('join', { room: 'war' })
    const resumed = await back.request('subscribe', { eventTypes: ['x.*'], since: position })
    t.match(resumed, { type: 'subscribed', payload: { replayed: 1, truncated: false } })
    t.match((await back.events(1))[0], { type: 'x.missed', data: { n: 1 } })
    await publish(b, { type: 'x.live', room: 'war' })
    t.match((await back.events(1))[0], { type: 'x.live' }, 'then live, with no other room\'s event between')
  })
}
