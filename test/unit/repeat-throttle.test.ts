import t from 'tap'
import { type RepeatSummary, RepeatThrottle } from '../../src/repeat-throttle.js'

type Type = 'refused' | 'blocked'
const T0 = 1_700_000_000_000

function setup (maxSources = 100) {
  const summaries: Array<RepeatSummary<Type>> = []
  const throttle = new RepeatThrottle<Type>({ windowMs: 10_000, burst: 3, maxSources }, (s) => { summaries.push(s) })
  const admitted = (type: Type, ip: string, times: number, now: number): number =>
    Array.from({ length: times }, () => throttle.admit(type, { ip }, now)).filter(Boolean).length
  return { throttle, summaries, admitted }
}

t.test('per type and source, the first `burst` of a window pass and the rest are counted', async (t) => {
  const { summaries, admitted } = setup()
  t.equal(admitted('refused', '192.0.2.1', 10, T0), 3, 'three of ten from one address')
  t.equal(admitted('refused', '192.0.2.2', 10, T0 + 1), 3, 'another address has its own window')
  t.equal(admitted('blocked', '192.0.2.1', 10, T0 + 2), 3, 'and so has another type')
  t.same(summaries, [], 'nothing is summarised while the windows are open')
})

t.test('a window that held reports back is summarised once: by the next report let through, or by a sweep', async (t) => {
  const { throttle, summaries, admitted } = setup()
  admitted('refused', '192.0.2.1', 10, T0)
  admitted('refused', '192.0.2.2', 4, T0)
  admitted('refused', '192.0.2.3', 2, T0)
  t.equal(admitted('refused', '192.0.2.1', 1, T0 + 12_000), 1, 'a new window lets the next one through')
  t.same(summaries, [{ type: 'refused', source: { ip: '192.0.2.1', userId: undefined }, count: 7, elapsedMs: 12_000 }], 'after the summary of the old one')
  throttle.sweep(T0 + 9_999)
  t.equal(summaries.length, 1, 'a sweep leaves open windows alone')
  throttle.sweep(T0 + 10_000)
  t.same(summaries.slice(1), [{ type: 'refused', source: { ip: '192.0.2.2', userId: undefined }, count: 1, elapsedMs: 10_000 }], 'closed windows are summarised, those that held nothing are not')
  t.equal(throttle.size, 1, 'and dropped: only the window opened at +12 s is left')
  throttle.sweep(T0 + 12_001, true)
  t.equal(throttle.size, 0, 'a final sweep drops every window')
})

t.test('ever new sources (spoofed) cannot grow the table: past the cap they share one window per type', async (t) => {
  const { throttle, summaries, admitted } = setup(100)
  let passed = 0
  for (let n = 0; n < 10_000; n++) passed += admitted('refused', `10.0.${n >> 8}.${n & 255}`, 1, T0 + n)
  t.equal(throttle.size, 101, 'the cap, plus one shared window')
  t.equal(passed, 100 + 3, 'each tracked source once, then the shared window\'s burst')
  throttle.sweep(T0 + 100_000)
  t.same(summaries, [{ type: 'refused', source: undefined, count: 9_897, elapsedMs: 100_000 - 100 }], 'one summary for every other source')
  t.equal(throttle.size, 0)
  t.equal(admitted('refused', '192.0.2.9', 1, T0 + 100_001), 1, 'and new sources are tracked again')
})
