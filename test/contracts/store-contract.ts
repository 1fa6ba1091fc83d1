import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import type { Store } from '../../src/store/store.js'

/** Makes a store on a medium that is up, registering its teardown on `t`. */
export type StoreFactory = (t: Test) => Promise<Store>

/** Windows short enough to watch expire, long enough that a few round trips fit inside. */
const SHORT_MS = 150
const LONG_MS = 60_000
/** Expiry is watched for this long before the test fails. */
const EXPIRY_WAIT_MS = 3000

/** A key no other test (nor an earlier run on the same Redis) has used. */
const fresh = (name: string): string => `contract:${name}:${randomUUID()}`

/**
 * Resolves once `key` has expired. Watched with `get`, not `ttl`: Redis expires a key only
 * after its last millisecond, during which PTTL already reads 0 while INCR still finds it.
 */
async function expired (store: Store, key: string): Promise<void> {
  await until(async () => await store.get(key) === null, EXPIRY_WAIT_MS, `${key} to expire`)
}

/**
 * Resolves once a slot taken for SHORT_MS just now has expired. The probe is taken after the
 * slot under test, so when the probe's slot is free again the other one has expired too:
 * watching a key of its own never renews or takes the slot under test.
 */
async function shortSlotsExpired (store: Store, probe: string): Promise<void> {
  await until(async () => await store.acquireSlot(probe, 'watcher', 1, LONG_MS), EXPIRY_WAIT_MS, 'the probe slot to expire')
}

/**
 * What every store guarantees, run against each implementation:
 * - a counter counts within its window (a later hit does not extend it) and starts again after it;
 * - a value lives for its TTL; `take` hands it out once, also to racing callers;
 * - `claim` succeeds once per key while it lives, also among racing callers, and again after;
 * - `ttl` is 0 for a missing key and within (0, ttl] for a live one;
 * - slots: at most `limit` members, a holder re-acquires without taking another, concurrent
 *   acquires cannot overshoot the limit, release frees one, refresh extends or re-adds, and an
 *   unrefreshed slot expires on its own.
 */
export function storeContract (name: string, makeStore: StoreFactory): void {
  t.test(`${name}: increment counts within the window and starts again after it`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('counter')
    t.same([await store.increment(key, SHORT_MS), await store.increment(key, SHORT_MS), await store.increment(key, SHORT_MS)], [1, 2, 3])
    await expired(store, key)
    t.equal(await store.increment(key, SHORT_MS), 1, 'a new window starts at 1')
  })

  t.test(`${name}: a later increment does not extend the window (fixed, not sliding)`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('window')
    await store.increment(key, SHORT_MS)
    const left = await store.ttl(key)
    t.equal(await store.increment(key, LONG_MS), 2)
    t.ok(await store.ttl(key) <= left, 'the window still ends when the first hit said')
  })

  t.test(`${name}: put and get; get of a missing key is null; put replaces`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('value')
    t.equal(await store.get(key), null)
    await store.put(key, 'first', LONG_MS)
    t.equal(await store.get(key), 'first')
    t.equal(await store.get(key), 'first', 'get does not consume')
    await store.put(key, 'second', LONG_MS)
    t.equal(await store.get(key), 'second')
  })

  t.test(`${name}: get after expiry is null`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('expiring')
    await store.put(key, 'soon gone', SHORT_MS)
    t.equal(await store.get(key), 'soon gone', 'live before its TTL')
    await t.resolves(expired(store, key), 'gone after its TTL')
    t.equal(await store.ttl(key), 0)
  })

  t.test(`${name}: take returns the value once, then null`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('single-use')
    t.equal(await store.take(key), null, 'nothing to take yet')
    await store.put(key, 'ticket', LONG_MS)
    t.equal(await store.take(key), 'ticket')
    t.equal(await store.take(key), null, 'the second take gets nothing')
    t.equal(await store.get(key), null, 'take deletes')
  })

  t.test(`${name}: of 20 racing takes exactly one gets the value`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('race')
    await store.put(key, 'prize', LONG_MS)
    const results = await Promise.all(Array.from({ length: 20 }, async () => await store.take(key)))
    t.same(results.filter((r) => r !== null), ['prize'])
    t.equal(results.filter((r) => r === null).length, 19)
  })

  t.test(`${name}: of 20 racing claims exactly one wins; the key can be claimed again once expired`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('claim')
    const results = await Promise.all(Array.from({ length: 20 }, async () => await store.claim(key, SHORT_MS)))
    t.equal(results.filter((r) => r).length, 1)
    t.equal(await store.claim(key, SHORT_MS), false, 'a later claim while it lives loses too')
    await expired(store, key)
    t.equal(await store.claim(key, SHORT_MS), true)
  })

  t.test(`${name}: take of an expired value is null`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('stale')
    await store.put(key, 'stale', SHORT_MS)
    await expired(store, key)
    t.equal(await store.take(key), null)
  })

  t.test(`${name}: ttl is 0 for a missing key and within (0, ttl] for a live one`, async (t) => {
    const store = await makeStore(t)
    t.equal(await store.ttl(fresh('missing')), 0)
    const [value, counter] = [fresh('ttl-value'), fresh('ttl-counter')]
    await store.put(value, 'v', 5000)
    await store.increment(counter, 5000)
    for (const key of [value, counter]) {
      const left = await store.ttl(key)
      t.ok(left > 0 && left <= 5000, `ttl ${left} within (0, 5000]`)
    }
  })

  t.test(`${name}: acquireSlot grants up to the limit; a holder re-acquires without another slot`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('slots')
    for (const member of ['a', 'b', 'c']) t.equal(await store.acquireSlot(key, member, 3, LONG_MS), true, `${member} gets a slot`)
    t.equal(await store.acquireSlot(key, 'd', 3, LONG_MS), false, 'the fourth is refused')
    t.equal(await store.acquireSlot(key, 'a', 3, LONG_MS), true, 'a holder is granted again')
    t.equal(await store.acquireSlot(key, 'd', 3, LONG_MS), false, 'and took no other slot')
    t.equal(await store.acquireSlot(fresh('slots'), 'd', 3, LONG_MS), true, 'another key has its own slots')
  })

  t.test(`${name}: 20 concurrent acquires for 20 members with limit 5 grant exactly 5`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('crowd')
    const granted = await Promise.all(Array.from({ length: 20 }, async (_, n) => await store.acquireSlot(key, `member-${n}`, 5, LONG_MS)))
    t.equal(granted.filter(Boolean).length, 5)
    t.equal(await store.acquireSlot(key, 'late', 5, LONG_MS), false, 'the slots stay taken')
  })

  t.test(`${name}: releaseSlot frees one slot`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('release')
    await store.acquireSlot(key, 'a', 2, LONG_MS)
    await store.acquireSlot(key, 'b', 2, LONG_MS)
    t.equal(await store.acquireSlot(key, 'c', 2, LONG_MS), false)
    await store.releaseSlot(key, 'a')
    t.equal(await store.acquireSlot(key, 'c', 2, LONG_MS), true, 'the freed slot is taken')
    t.equal(await store.acquireSlot(key, 'd', 2, LONG_MS), false, 'only one was freed')
    await t.resolves(store.releaseSlot(key, 'never-held'), 'releasing a slot never held is harmless')
  })

  t.test(`${name}: refreshSlots keeps slots alive past their original TTL`, async (t) => {
    const store = await makeStore(t)
    const [first, second, probe] = [fresh('refreshed'), fresh('refreshed'), fresh('probe')]
    await store.acquireSlot(first, 'a', 1, SHORT_MS)
    await store.acquireSlot(second, 'b', 1, SHORT_MS)
    await store.acquireSlot(probe, 'p', 1, SHORT_MS)
    await store.refreshSlots([{ key: first, member: 'a' }, { key: second, member: 'b' }], LONG_MS)
    await shortSlotsExpired(store, probe)
    t.equal(await store.acquireSlot(first, 'other', 1, LONG_MS), false, 'the first slot is still held')
    t.equal(await store.acquireSlot(second, 'other', 1, LONG_MS), false, 'the second slot is still held')
    await t.resolves(store.refreshSlots([], LONG_MS), 'refreshing nothing is harmless')
  })

  t.test(`${name}: refreshSlots re-adds a slot that was lost`, async (t) => {
    const store = await makeStore(t)
    const [key, probe] = [fresh('lost'), fresh('probe')]
    await store.acquireSlot(key, 'a', 1, SHORT_MS)
    await store.acquireSlot(probe, 'p', 1, SHORT_MS)
    await shortSlotsExpired(store, probe)
    await store.refreshSlots([{ key, member: 'a' }], LONG_MS)
    t.equal(await store.acquireSlot(key, 'b', 1, LONG_MS), false, 'the re-added slot counts against the limit')
    await store.releaseSlot(key, 'a')
    t.equal(await store.acquireSlot(key, 'b', 1, LONG_MS), true, 'and it was held by the refreshed member')
  })

  t.test(`${name}: a slot that is not refreshed expires on its own`, async (t) => {
    const store = await makeStore(t)
    const key = fresh('expiring-slot')
    t.equal(await store.acquireSlot(key, 'a', 1, SHORT_MS), true)
    t.equal(await store.acquireSlot(key, 'b', 1, SHORT_MS), false, 'held while live')
    await t.resolves(until(async () => await store.acquireSlot(key, 'b', 1, LONG_MS), EXPIRY_WAIT_MS, 'the slot to expire'), 'free once expired')
  })
  t.test(`${name}: recordRevocation keeps the latest revokedAt of a rule within the TTL; revocationList lists them oldest first`, async (t) => {
    const store = await makeStore(t)
    const [a, b] = [fresh('rule-a'), fresh('rule-b')]
    const now = Date.now()
    await store.recordRevocation(a, now - 2000, LONG_MS)
    await store.recordRevocation(b, now - 1000, LONG_MS)
    await store.recordRevocation(a, now, LONG_MS)
    await store.recordRevocation(b, now - 5000, LONG_MS)
    const mine = (await store.revocationList(LONG_MS, 1000)).filter((r) => r.rule === a || r.rule === b)
    t.same(mine, [{ rule: b, revokedAt: now - 1000 }, { rule: a, revokedAt: now }], 'a later revokedAt wins, an earlier one changes nothing')
    const old = fresh('rule-old')
    await store.recordRevocation(old, now - LONG_MS - 1000, LONG_MS)
    t.notOk((await store.revocationList(LONG_MS, 1000)).some((r) => r.rule === old), 'one older than the TTL is not listed')
    t.equal((await store.revocationList(LONG_MS, 1)).length, 1, 'at most `limit` of them')
  })
  t.test(`${name}: admitUpgrade counts the upgrade and takes a slot within the budget; past it, takes none`, async (t) => {
    const store = await makeStore(t)
    const count = { key: fresh('upgrades'), windowMs: LONG_MS, max: 2 }
    const slot = { key: fresh('slots'), limit: 5, ttlMs: LONG_MS }
    const first = await store.admitUpgrade(count, { ...slot, member: 'a' })
    t.match(first, { count: 1, slot: true })
    t.ok(first.resetInMs > 0 && first.resetInMs <= LONG_MS, 'the window\'s time left')
    t.match(await store.admitUpgrade(count, { ...slot, member: 'b' }), { count: 2, slot: true })
    t.match(await store.admitUpgrade(count, { ...slot, member: 'c' }), { count: 3, slot: false }, 'past the budget')
    t.equal(await store.acquireSlot(slot.key, 'probe', 3, LONG_MS), true, 'the refused upgrade took no slot: two of three are held')
    const full = { key: fresh('upgrades'), windowMs: LONG_MS, max: 10 }
    t.match(await store.admitUpgrade(full, { ...slot, limit: 3, member: 'd' }), { count: 1, slot: false }, 'counted, and refused a slot when all are held')
  })
}
