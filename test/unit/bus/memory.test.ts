import t from 'tap'
import { until } from '../../../harness/ports.js'
import type { Bus } from '../../../src/bus/bus.js'
import { MemoryBus } from '../../../src/bus/memory.js'
import { aDraft, type BusFactory, busContract, publishMany, RETENTION } from '../../contracts/bus-contract.js'
import { liveOnlyContract } from '../../contracts/bus-live-contract.js'

const memoryBus: BusFactory = async (t, retention) => {
  const bus = new MemoryBus({ ...RETENTION, ...retention })
  t.teardown(async () => { await bus.close() })
  return bus
}

busContract('MemoryBus', memoryBus)
liveOnlyContract('MemoryBus', memoryBus)

t.test('MemoryBus keeps exactly HISTORY_MAX_EVENTS events, and none older than HISTORY_MAX_AGE', async (t) => {
  const bus: Bus = new MemoryBus({ maxEvents: 10, maxAgeMs: 3_600_000 })
  t.teardown(async () => { await bus.close() })
  const ids = await publishMany(bus, 25)
  t.same((await bus.history.after('0-0', 100)).messages.map((m) => m.event.id), ids.slice(15))
  const aging = new MemoryBus({ maxEvents: 10, maxAgeMs: 100 })
  t.teardown(async () => { await aging.close() })
  const [old] = await aging.publish([aDraft(1)])
  await until(async () => (await aging.history.after('0-0', 10)).messages.length === 0, 2000, 'the event to age out')
  t.same(await aging.history.after(old as string, 10), { messages: [], truncated: false }, 'nothing after it was lost')
})
