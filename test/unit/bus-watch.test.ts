import t from 'tap'
import { BusWatch } from '../../src/bus-watch.js'

t.test('reports a loss once, and the recovery once with when the loss began', async (t) => {
  const bus = { connected: true }
  const seen: string[] = []
  const watch = new BusWatch(bus, 1000, {
    lost: (at) => { seen.push(`lost ${at}`) },
    recovered: (lostAt, now) => { seen.push(`recovered ${lostAt} ${now}`) }
  })
  watch.check(1)
  bus.connected = false
  watch.check(2)
  watch.check(3)
  bus.connected = true
  watch.check(4)
  watch.check(5)
  t.same(seen, ['lost 2', 'recovered 2 4'])
})
