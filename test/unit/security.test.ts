import { pino } from 'pino'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import type { BusMessage } from '../../src/bus/bus.js'
import { MemoryBus } from '../../src/bus/memory.js'
import { loggerOptions } from '../../src/logging.js'
import { clip, MAX_AUDIT_TEXT, SecurityReporter } from '../../src/security.js'

interface Line { msg: string, audit?: string, repeated?: number, [field: string]: unknown }

/** A reporter on a memory bus, its log lines and the events it published, torn down with `t`. */
async function setup (t: Test, options: { perSecond?: number, windowMs?: number } = {}) {
  const bus = new MemoryBus({ maxEvents: 100, maxAgeMs: 3_600_000 })
  const events: BusMessage[] = []
  await bus.subscribe((m) => { events.push(m) })
  const chunks: string[] = []
  const log = pino(loggerOptions('info', 'eg-test'), { write: (chunk: string) => { chunks.push(chunk) } })
  const reporter = new SecurityReporter(bus, log, 'unit', options.perSecond ?? 1000, { windowMs: options.windowMs ?? 60_000, burst: 5 })
  t.teardown(async () => { reporter.close(); await bus.close() })
  const lines = (): Line[] => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line)
  return { bus, events, reporter, lines, bytes: () => chunks.join('').length }
}

const HUGE = 'x'.repeat(8192)

t.test('strings from the request are cut to MAX_AUDIT_TEXT in the record and in the event', async (t) => {
  const { events, reporter, lines } = await setup(t)
  reporter.report('security.origin.rejected', { reason: 'origin_not_allowed', origin: `https://${HUGE}`, ip: '192.0.2.1', userAgent: `agent/${HUGE}`, detail: HUGE, attempts: 3 })
  const [line] = lines()
  t.equal(JSON.stringify(line).length < 4 * MAX_AUDIT_TEXT, true, `the line holds ${JSON.stringify(line).length} characters for 3 × 8 KB given`)
  t.equal(line?.userAgent, clip(`agent/${HUGE}`))
  t.equal(String(line?.userAgent).length, MAX_AUDIT_TEXT)
  t.match(String(line?.origin), /^https:\/\/x+…$/, 'cut where marked')
  t.equal(line?.attempts, 3, 'numbers stay')
  await until(() => events.length === 1, 2000, 'the event')
  t.match(events[0]?.event.data, { userAgent: clip(`agent/${HUGE}`), detail: clip(HUGE), origin: line?.origin, attempts: 3 })
  t.equal(clip('short'), 'short')
})

t.test('repeated refusals from one source: five written and published, the rest counted and summarised once', async (t) => {
  const { events, reporter, lines } = await setup(t, { windowMs: 200 })
  let seen = 0
  reporter.onReport(() => { seen++ })
  for (let n = 0; n < 50; n++) reporter.report('security.auth.failed', { reason: 'token_invalid', ip: '192.0.2.1', userAgent: HUGE })
  reporter.report('security.auth.failed', { reason: 'token_invalid', ip: '192.0.2.2' })
  t.equal(seen, 51, 'listeners (metrics) see every report')
  t.equal(lines().length, 6, 'five lines from the flooding address, one from the other')
  await until(() => lines().some((l) => l.repeated !== undefined), 5000, 'the window to close and be summarised')
  const summary = lines().find((l) => l.repeated !== undefined)
  t.match(summary, { audit: 'security.auth.failed', reason: 'repeated', repeated: 45, ip: '192.0.2.1' })
  t.match(summary?.msg, /^45 more security\.auth\.failed from 192\.0\.2\.1 in the last \d+ s$/)
  await until(() => events.length === 7, 2000, 'seven events')
  t.same(events.map((m) => m.event.data.repeated ?? 1).reduce((a, b) => Number(a) + Number(b), 0), 51, 'the events account for every report')
  t.ok(events.every((m) => m.event.audience === 'admin'))
})

t.test('a summary counts against the per-type budget: what the budget leaves out, the next event counts', async (t) => {
  const { events, reporter, lines } = await setup(t, { perSecond: 1, windowMs: 100 })
  for (let n = 0; n < 20; n++) reporter.report('security.rate_limit.exceeded', { reason: 'upgrades', ip: '192.0.2.1' })
  await until(() => lines().some((l) => l.repeated === 15), 5000, 'the summary of the 15 held back')
  await until(() => events.length === 1, 2000, 'the first event')
  t.same(events[0]?.event.data, { reason: 'upgrades', ip: '192.0.2.1', serverId: 'unit' }, 'the first goes out at once, the budget is spent')
  let attempts = 0
  // Delivery is asynchronous: look for the second event before each new attempt.
  await until(() => {
    if (events.length > 1) return true
    reporter.report('security.rate_limit.exceeded', { reason: 'upgrades', ip: `198.51.100.${++attempts}` })
    return false
  }, 5000, 'the budget to refill and a second event to go out')
  t.match(events[1]?.event.data, { ip: `198.51.100.${attempts}`, suppressed: 4 + 15 + attempts - 1 }, 'it counts the four the budget refused, the summary of 15, and the attempts before it')
})

t.test('successes are never summarised: the trail of who got in stays whole', async (t) => {
  const { reporter, lines } = await setup(t)
  for (let n = 0; n < 30; n++) reporter.report('security.auth.succeeded', { reason: 'valid_token', ip: '192.0.2.1', userId: `u${n}` })
  t.equal(lines().length, 30)
})

t.test('a flood from ever new addresses writes a bounded number of lines', async (t) => {
  const { reporter, lines, bytes } = await setup(t)
  for (let n = 0; n < 20_000; n++) reporter.report('security.auth.failed', { reason: 'token_invalid', ip: `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`, userAgent: HUGE })
  reporter.close()
  const written = lines()
  t.ok(written.length <= 1000 + 5 + 1, `${written.length} lines for 20000 addresses`)
  t.match(written.at(-1), { repeated: 20_000 - 1005, otherSources: true }, 'the rest in one summary')
  t.ok(bytes() / 20_000 < 100, `${(bytes() / 20_000).toFixed(1)} log bytes per report`)
})

t.test('a success is written, never published; a session event goes to its user, a system one to admins', async (t) => {
  const { events, reporter, lines } = await setup(t)
  reporter.report('security.auth.succeeded', { reason: 'valid_token', userId: 'u1' })
  reporter.report('session.created', { reason: 'connected', userId: 'u1', sessionId: 's1' })
  reporter.report('system.instance.started', { reason: 'started' })
  await until(() => events.length === 2, 2000, 'the two published')
  t.same(events.map((m) => [m.event.type, m.event.userId, m.event.audience]), [
    ['session.created', 'u1', undefined],
    ['system.instance.started', undefined, 'admin']
  ])
  t.same(lines().map((l) => [l.audit, l.level]), [['security.auth.succeeded', 30], ['session.created', 30], ['system.instance.started', 30]], 'each audited at info')
})
