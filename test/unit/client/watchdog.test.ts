import t from 'tap'
import { until } from '../../../harness/ports.js'
import { Watchdog } from '../../../src/client/watchdog.js'
import { within } from '../../helpers/within.js'

t.test('watchdog: probes after the interval, declares death after interval + grace', async (t) => {
  let probes = 0
  const started = Date.now()
  const dead = new Promise<number>((resolve) => {
    const watchdog = new Watchdog(60, 60, () => { probes++ }, () => { resolve(Date.now() - started) })
    t.teardown(() => { watchdog.stop() })
  })
  const elapsed = await within(dead, 2000, 'the watchdog to fire')
  t.equal(probes, 1, 'one probe before giving up')
  t.ok(elapsed >= 120, `not before interval + grace (${elapsed} ms)`)
})

t.test('watchdog: traffic keeps the connection alive', async (t) => {
  let deaths = 0
  let probes = 0
  const watchdog = new Watchdog(40, 40, () => { probes++ }, () => { deaths++ })
  t.teardown(() => { watchdog.stop() })
  const traffic = setInterval(() => { watchdog.seen() }, 10)
  t.teardown(() => { clearInterval(traffic) })
  const quietUntil = Date.now() + 300
  await until(() => Date.now() >= quietUntil, 2000, 'several intervals of traffic')
  t.equal(deaths, 0, 'never declared dead while frames arrive')
  t.equal(probes, 0, 'never probed either')
})
