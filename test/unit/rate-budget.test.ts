import t from 'tap'
import { type Lease, type Lessor, RateBudget } from '../../src/rate-budget.js'

const WINDOW_MS = 60_000

/** One shared counter per key, as the lease script keeps it, and the leases asked of it. */
function sharedCounter () {
  const counts = new Map<string, number>()
  const asked: number[] = []
  const lessor: Lessor = async (key, want, max): Promise<Lease> => {
    asked.push(want)
    const before = counts.get(key) ?? 0
    counts.set(key, before + want)
    return { count: before + want, granted: Math.max(0, Math.min(want, max - before)), ttlMs: WINDOW_MS }
  }
  return { lessor, asked }
}

const admitted = (currents: Array<{ current: number }>, max: number): number => currents.filter((c) => c.current <= max).length

t.test('a quiet key leases exactly what it is asked for: each request counted in order, refused past the limit', async (t) => {
  const { lessor, asked } = sharedCounter()
  const budget = new RateBudget(lessor)
  const currents: number[] = []
  for (let i = 0; i < 4; i++) currents.push((await budget.take('k', 3, WINDOW_MS)).current)
  t.same(currents, [1, 2, 3, 4], 'the fourth is over a limit of 3')
  t.same(asked, [1, 1, 1, 1])
})

t.test('the requests of one tick share one lease, and a busy key leases ahead: fewer leases than requests', async (t) => {
  const { lessor, asked } = sharedCounter()
  const budget = new RateBudget(lessor)
  const first = await Promise.all(Array.from({ length: 10 }, async () => await budget.take('k', 32_000, WINDOW_MS)))
  t.same(first.map((c) => c.current), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.same(asked, [10], 'one lease for the tick')
  const next = await Promise.all(Array.from({ length: 30 }, async () => await budget.take('k', 32_000, WINDOW_MS)))
  t.same(next.map((c) => c.current), Array.from({ length: 30 }, (_, i) => 11 + i), 'numbered on, without a gap')
  t.ok(asked.length <= 3, `${asked.length} leases for 40 requests`)
})

t.test('instances sharing a counter never admit more than the limit between them', async (t) => {
  const { lessor } = sharedCounter()
  const max = 640
  const [a, b] = [new RateBudget(lessor), new RateBudget(lessor)]
  const counts = []
  for (let round = 0; round < 20; round++) {
    counts.push(...await Promise.all(Array.from({ length: 50 }, async (_, i) => await (i % 2 === 0 ? a : b).take('k', max, WINDOW_MS))))
  }
  const taken = admitted(counts, max)
  t.ok(taken <= max, `${taken} admitted`)
  t.ok(taken >= max - 2 * (max / 32), 'refused early by at most what the other holds unused')
})

t.test('a lease that fails fails the requests waiting for it, and the next one asks again', async (t) => {
  let fail = true
  const { lessor } = sharedCounter()
  const budget = new RateBudget(async (...args) => {
    if (fail) throw new Error('unreachable')
    return await lessor(...args)
  })
  const outcomes = await Promise.allSettled([budget.take('k', 5, WINDOW_MS), budget.take('k', 5, WINDOW_MS)])
  t.same(outcomes.map((o) => o.status), ['rejected', 'rejected'])
  fail = false
  t.equal((await budget.take('k', 5, WINDOW_MS)).current, 1)
})

t.test('a lease ends with its window: the next request leases again', async (t) => {
  let now = 0
  const asked: number[] = []
  const budget = new RateBudget(async (_key, want) => {
    asked.push(want)
    return { count: want, granted: want, ttlMs: 1000 }
  }, () => now)
  await Promise.all(Array.from({ length: 4 }, async () => await budget.take('k', 3200, 1000)))
  await budget.take('k', 3200, 1000)
  now = 1000
  t.equal((await budget.take('k', 3200, 1000)).current, 1, 'counted in the new window')
  t.equal(asked.length, 3)
})

t.test('budgets of keys whose window ended are swept once many are kept, at most once a second', async (t) => {
  let now = 0
  const budget = new RateBudget(async (_key, want) => ({ count: want, granted: want, ttlMs: 100 }), () => now)
  const fill = async (prefix: string): Promise<void> => {
    for (let i = 0; i < 10_000; i++) await budget.take(`${prefix}${i}`, 100, 100)
  }
  await fill('a')
  t.equal(budget.size, 10_000)
  now = 1000
  await budget.take('b', 100, 100)
  t.equal(budget.size, 1, 'the expired ones went at the first new key past the mark')
  await fill('c')
  now = 1500
  await budget.take('d', 100, 100)
  t.equal(budget.size, 10_002, 'not swept again within the second, expired as they are')
  now = 2000
  await budget.take('e', 100, 100)
  t.equal(budget.size, 1)
})
