import t from 'tap'
import { MAX_TIMER_MS, nextWake } from '../../src/token-lifecycle.js'

t.test('nextWake: the warning first, then the expiry, never beyond what setTimeout can hold', async (t) => {
  t.equal(nextWake(0, 10_000, 3000, false), 7000, 'at the warning')
  t.equal(nextWake(0, 10_000, 3000, true), 10_000, 'once warned, at exp')
  t.equal(nextWake(0, 10_000, 0, false), 10_000, 'no warning configured')
  t.equal(nextWake(9000, 10_000, 3000, false), 0, 'a warning already due: at once')
  t.equal(nextWake(0, 40 * 86_400_000, 60_000, false), MAX_TIMER_MS, 'a token valid for 40 days wakes within 24.8 days, and again from there')
})
