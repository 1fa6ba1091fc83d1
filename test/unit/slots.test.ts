import { pino } from 'pino'
import t, { type Test } from 'tap'
import { Connection, type Socket } from '../../src/connection.js'
import { ConnectionSlots } from '../../src/slots.js'
import { MemoryStore } from '../../src/store/memory.js'

const LIMIT = 2
const TTL_MS = 1000

/** A store that can be made unreachable, as Redis is during an outage. */
class OutageStore extends MemoryStore {
  down = false
  override async acquireSlot (key: string, member: string, limit: number, ttlMs: number): Promise<boolean> {
    if (this.down) throw new Error('store unreachable')
    return await super.acquireSlot(key, member, limit, ttlMs)
  }

  override async admitUpgrade (...args: Parameters<MemoryStore['admitUpgrade']>): ReturnType<MemoryStore['admitUpgrade']> {
    if (this.down) throw new Error('store unreachable')
    return await super.admitUpgrade(...args)
  }
}

/** Slots on a store whose clock the test moves, with `local` as this instance's own count per user. */
function setup (t: Test, local: (userId: string) => number = () => 0, budget = { max: 3, windowMs: TTL_MS }) {
  const clock = { now: 0 }
  const store = new OutageStore(() => clock.now)
  t.teardown(async () => { await store.close() })
  const lines: string[] = []
  const log = pino({ level: 'warn' }, { write: (line: string) => { lines.push(line) } })
  return { clock, store, lines, slots: new ConnectionSlots(store, LIMIT, TTL_MS, local, log, budget) }
}

const socket: Socket = { readyState: 1, bufferedAmount: 0, send () {}, close () {}, terminate () {}, ping () {} }
const quiet = pino({ level: 'silent' })
const connection = (id: string, userId: string): Connection =>
  new Connection(id, socket, { userId, sessionId: undefined, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }, 'events', quiet)

t.test('a user gets LIMIT slots, one per connection; a connection that holds one keeps it', async (t) => {
  const { slots } = setup(t)
  t.same([await slots.acquire('alice', 'c1'), await slots.acquire('alice', 'c2'), await slots.acquire('alice', 'c3')], [true, true, false])
  t.equal(await slots.acquire('alice', 'c1'), true, 'asking again for a held slot')
  t.equal(await slots.acquire('bob', 'c4'), true, 'another user has slots of his own')
})

t.test('a released slot is free for the next connection', async (t) => {
  const { slots } = setup(t)
  await slots.acquire('alice', 'c1')
  await slots.acquire('alice', 'c2')
  slots.release('alice', 'c1')
  t.equal(await slots.acquire('alice', 'c3'), true)
})

t.test('slots expire unless refreshed, so a dead instance\'s connections free theirs', async (t) => {
  const { slots, clock } = setup(t)
  await slots.acquire('alice', 'c1')
  await slots.acquire('alice', 'c2')
  clock.now = 900
  slots.refresh([connection('c1', 'alice')])
  clock.now = 1500
  t.equal(await slots.acquire('alice', 'c3'), true, 'c2, not refreshed, expired')
  t.equal(await slots.acquire('alice', 'c4'), false, 'c1, refreshed, still holds its slot')
})

t.test('a refresh takes back slots the store lost, as a restarted Redis loses them', async (t) => {
  const { slots } = setup(t)
  slots.refresh([connection('c1', 'alice'), connection('c2', 'alice')])
  t.equal(await slots.acquire('alice', 'c3'), false)
})

t.test('while the store is unreachable, this instance\'s own count decides, and says so', async (t) => {
  const counts: Record<string, number> = { alice: 1, bob: 2 }
  const { slots, store, lines } = setup(t, (userId) => counts[userId] ?? 0)
  store.down = true
  t.equal(await slots.acquire('alice', 'c1'), true, 'one local connection, below the limit')
  t.equal(await slots.acquire('bob', 'c2'), false, 'two local connections, at the limit')
  t.match(lines.map((line) => JSON.parse(line) as unknown), [{ msg: 'connection slots unavailable; counting this instance only', userId: 'alice' }, { userId: 'bob' }])
})

t.test('admitUpgrade counts the user\'s upgrades in the same call: within the budget a slot, past it the time to retry', async (t) => {
  const { slots, clock } = setup(t)
  t.same([await slots.admitUpgrade('alice', 'c1'), await slots.admitUpgrade('alice', 'c2'), await slots.admitUpgrade('alice', 'c3')], ['granted', 'granted', 'full'])
  clock.now = 400
  t.same(await slots.admitUpgrade('alice', 'c1'), { retryInMs: 600 }, 'the fourth upgrade in the window, though it holds a slot')
  t.equal(await slots.admitUpgrade('bob', 'c4'), 'granted', 'another user has a budget of his own')
  clock.now = 1000
  slots.release('alice', 'c2')
  t.equal(await slots.admitUpgrade('alice', 'c5'), 'granted', 'a new window')
})

t.test('while the store is unreachable upgrades are not counted, and this instance\'s own count decides the slot', async (t) => {
  const { slots, store } = setup(t, (userId) => userId === 'bob' ? LIMIT : 0, { max: 1, windowMs: TTL_MS })
  store.down = true
  t.same([await slots.admitUpgrade('alice', 'c1'), await slots.admitUpgrade('alice', 'c2')], ['granted', 'granted'])
  t.equal(await slots.admitUpgrade('bob', 'c3'), 'full')
})
