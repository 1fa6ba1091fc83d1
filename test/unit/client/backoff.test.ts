import t from 'tap'
import { backoffDelay } from '../../../src/client/backoff.js'

t.test('backoff: full jitter below an exponential ceiling, capped', async (t) => {
  const options = { baseMs: 100, capMs: 1000 }
  t.equal(backoffDelay(0, options, () => 0), 0, 'the low end of the range is 0')
  t.equal(backoffDelay(0, options, () => 0.999), 99, 'attempt 0: below base')
  t.equal(backoffDelay(1, options, () => 0.5), 100, 'attempt 1: half of 2·base')
  t.equal(backoffDelay(3, options, () => 0.999), 799)
  t.equal(backoffDelay(4, options, () => 0.999), 999, 'the ceiling stops at the cap')
  t.equal(backoffDelay(5000, options, () => 0.5), 500, 'no overflow after many attempts')
  const spread = new Set(Array.from({ length: 200 }, () => backoffDelay(6, options)))
  t.ok([...spread].every((d) => d >= 0 && d < 1000), 'every delay within [0, cap)')
  t.ok(spread.size > 50, `delays spread over the range (${spread.size} distinct of 200)`)
})
