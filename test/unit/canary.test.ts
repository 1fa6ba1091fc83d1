import { pino } from 'pino'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { BusUnavailableError } from '../../src/bus/bus.js'
import { MemoryBus } from '../../src/bus/memory.js'
import { Canary } from '../../src/canary.js'

/** The embedded bus, whose canary can be made not to come back, as a lost subscription's would not. */
class StallingBus extends MemoryBus {
  stalled = false
  override async probe (): Promise<number> {
    if (this.stalled) throw new BusUnavailableError('the canary did not come back')
    return await super.probe()
  }
}

/** A canary on its own bus, and the messages of the lines it logs. */
function setup (t: Test, intervalMs = 60_000) {
  const bus = new StallingBus({ maxEvents: 10, maxAgeMs: 60_000 })
  const lines: string[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => { lines.push((JSON.parse(line) as { msg: string }).msg) } })
  const canary = new Canary(bus, intervalMs, log)
  t.teardown(async () => { canary.stop(); await bus.close() })
  return { bus, canary, lines }
}

t.test('a canary that comes back keeps health up and records its round trip', async (t) => {
  const { canary, lines } = setup(t)
  t.equal(canary.lastRoundTripMs, undefined, 'no round trip before the first')
  await canary.check()
  t.equal(canary.healthy, true)
  t.type(canary.lastRoundTripMs, 'number')
  t.same(lines, [], 'nothing to say while events flow')
})

t.test('a lost canary turns health down until one comes back; each change is logged once', async (t) => {
  const { bus, canary, lines } = setup(t)
  bus.stalled = true
  await canary.check()
  await canary.check()
  t.equal(canary.healthy, false)
  bus.stalled = false
  await canary.check()
  await canary.check()
  t.equal(canary.healthy, true)
  t.same(lines, ['canary lost: events are not flowing', 'canary back: events flow again'])
})

t.test('once started, it checks at its interval by itself', async (t) => {
  const { bus, canary } = setup(t, 10)
  bus.stalled = true
  canary.start()
  await until(() => !canary.healthy, 2000, 'a check to find the canary lost')
  bus.stalled = false
  await until(() => canary.healthy, 2000, 'a later check to find it back')
})
