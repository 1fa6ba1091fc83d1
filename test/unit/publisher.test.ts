import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import type { BusMessage } from '../../src/bus/bus.js'
import { MemoryBus } from '../../src/bus/memory.js'
import type { EventInput } from '../../src/events.js'
import { Publisher } from '../../src/publisher.js'

/** A publisher on the embedded bus, and what the bus delivers. */
async function setup (t: Test, idempotencyTtlMs = 60_000) {
  const bus = new MemoryBus({ maxEvents: 100, maxAgeMs: 3_600_000 })
  t.teardown(async () => { await bus.close() })
  const delivered: BusMessage[] = []
  await bus.subscribe((message) => { delivered.push(message) })
  return { bus, delivered, publisher: new Publisher(bus, idempotencyTtlMs) }
}

/** How many events the bus's history holds. */
const held = async (bus: MemoryBus): Promise<number> => (await bus.history.after('0-0', 100)).messages.length

const created: EventInput = { type: 'order.created', userId: 'alice', data: { n: 1 } }
const paid: EventInput = { type: 'order.paid', data: { n: 2 } }
const inputs = [created, paid]

t.test('a batch becomes drafts stamped with one time, and comes back as ids in input order', async (t) => {
  const { publisher, delivered } = await setup(t)
  const ids = await publisher.publish(inputs)
  await until(() => delivered.length === 2, 2000, 'both events')
  t.same(delivered.map((m) => m.event.id), ids)
  t.match(delivered.map((m) => m.event), [{ type: 'order.created', userId: 'alice', data: { n: 1 } }, { type: 'order.paid', data: { n: 2 } }])
  t.equal(delivered[0]?.event.timestamp, delivered[1]?.event.timestamp, 'one timestamp for the batch')
  t.equal(publisher.count, 2)
})

t.test('listeners see each batch once it is in the history', async (t) => {
  const { bus, publisher } = await setup(t)
  const seen: Array<{ inputs: readonly EventInput[], held: Promise<number> }> = []
  // The history is read when the listener runs: `after` takes its page before its first await.
  publisher.onPublished((batch) => { seen.push({ inputs: batch, held: held(bus) }) })
  await publisher.publish(inputs)
  await publisher.publish([created])
  t.same(seen.map((s) => s.inputs.length), [2, 1])
  t.same(await Promise.all(seen.map(async (s) => await s.held)), [2, 3], 'the history held the batch when the listener ran')
})

t.test('a retried Idempotency-Key gets the first ids back, from its publisher only', async (t) => {
  const { publisher, bus } = await setup(t)
  const first = await publisher.publish(inputs, { publisher: 'billing', requestKey: 'k1' })
  t.same(await publisher.publish(inputs, { publisher: 'billing', requestKey: 'k1' }), first)
  const other = await publisher.publish(inputs, { publisher: 'shipping', requestKey: 'k1' })
  t.not(other[0], first[0], 'another publisher\'s key of the same name is its own')
  t.equal(await held(bus), 4, 'the retry published nothing')
})

t.test('an event\'s idempotencyKey is scoped apart from a request key of the same text', async (t) => {
  const { publisher } = await setup(t)
  const [byRequest] = await publisher.publish([created], { publisher: 'billing', requestKey: 'k1' })
  const [byEvent] = await publisher.publish([{ ...created, idempotencyKey: 'k1' }], { publisher: 'billing' })
  t.not(byEvent, byRequest)
  const [again] = await publisher.publish([{ ...paid, idempotencyKey: 'k1' }], { publisher: 'billing' })
  t.equal(again, byEvent, 'the event key is remembered on its own')
})
