import t from 'tap'
import { MAX_SERIES, OTHER, RateSeries, TOTAL, WINDOW_SECONDS } from '../../../dashboard/rate-series.js'

const NOW = 1_800_000_000_700

const totals = (series: RateSeries, now = NOW): Record<string, number> => {
  const { labels, rows } = series.columns(now)
  return Object.fromEntries(labels.map((label, i) => [label, (rows[i] ?? []).reduce((a, b) => a + b, 0)]))
}

t.test('counts per second in total and per key, over a window of at least 15 minutes', async (t) => {
  t.ok(WINDOW_SECONDS >= 900)
  const series = new RateSeries()
  series.record('authentication', NOW, NOW)
  series.record('authentication', NOW - 500, NOW)
  series.record('security', NOW - 14 * 60_000, NOW)
  const { labels, x, rows } = series.columns(NOW)
  t.equal(x.length, WINDOW_SECONDS, 'one point a second')
  t.equal(x.at(-1), Math.floor(NOW / 1000), 'ending now')
  t.same(labels, [TOTAL, 'authentication', 'security'])
  t.equal(rows[0]?.at(-1), 2, 'two in the last second')
  t.same(totals(series), { [TOTAL]: 3, authentication: 2, security: 1 })
})

t.test('an event counts at its own time: a replayed one does not raise the current rate', async (t) => {
  const series = new RateSeries()
  for (let i = 0; i < 10; i++) series.record('orders', NOW - 120_000, NOW)
  const { rows } = series.columns(NOW)
  t.equal(rows[0]?.at(-1), 0, 'nothing now')
  t.equal(rows[0]?.at(-121), 10, 'all of them two minutes ago')
  t.notOk(series.record('orders', NOW - WINDOW_SECONDS * 1000, NOW), 'older than the window: left out')
  series.record('orders', NOW + 3000, NOW)
  t.equal(series.columns(NOW).rows[0]?.at(-1), 1, 'a gateway clock ahead of the page counts as now')
})

t.test('memory is fixed: old seconds are overwritten, keys past the cap share one series', async (t) => {
  const series = new RateSeries()
  series.record('a', NOW, NOW)
  const later = NOW + WINDOW_SECONDS * 1000
  series.record('a', later, later)
  t.same(totals(series, later), { [TOTAL]: 1, a: 1 }, 'the bucket of a second a window ago is reused')
  for (let i = 0; i < MAX_SERIES + 5; i++) series.record(`ns${i}`, later, later)
  const { labels } = series.columns(later)
  t.equal(labels.length, MAX_SERIES + 2, 'total, the capped keys and one for the rest')
  t.equal(labels.at(-1), OTHER)
  series.reset()
  t.same(totals(series, later), { [TOTAL]: 0 })
})
