import t from 'tap'
import type { BusMessage } from '../../src/bus/bus.js'
import { eventJson } from '../../src/events.js'
import { compareIds, partitionOf } from '../../src/wire/event-id.js'
import { aDraft, arrived, type BusFactory, idTime, increasing, publishMany, subscribed } from './bus-contract.js'

/**
 * What every bus guarantees of live-only events (publishLive), part of the bus contract: each
 * takes an id from the one order of all events, never another's, and is delivered like any
 * other, but is never in the history; the history still places its id, so a resume from it
 * replays exactly the kept events after it, and a flood of them evicts nothing.
 */
export function liveOnlyContract (name: string, makeBus: BusFactory): void {
  t.test(`${name}: a live-only event takes a unique id between stored ones, is delivered, and is not in the history`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const first = await bus.publishLive(aDraft(0, { audience: 'admin' }))
    t.same(await bus.history.after(first, 10), { messages: [], truncated: false }, 'a live-only id is placed, even before anything was kept')
    const [a] = await bus.publish([aDraft(1)])
    const live = [await bus.publishLive(aDraft(2)), await bus.publishLive(aDraft(3))]
    const [b, c] = await bus.publish([aDraft(4), aDraft(5)])
    const all = [first, a, ...live, b, c] as string[]
    t.ok(increasing(all), `one order for both kinds: ${all.join(' ')}`)
    await arrived(received, all.length)
    t.same(received.map((m) => m.event.id), all, 'delivered live, in id order')
    const delivered = received[2] as BusMessage
    t.same([delivered.event, delivered.json], [{ id: live[0], ...aDraft(2), timestamp: delivered.event.timestamp }, eventJson(live[0] as string, JSON.stringify({ ...aDraft(2), timestamp: delivered.event.timestamp }))], 'as eventJson')
    const history = await bus.history.after('0-0', 100)
    t.same([history.messages.map((m) => m.event.id), history.truncated], [[a, b, c], false], 'the history holds the kept events only')
    const resumed = await bus.history.after(live[1] as string, 100)
    t.same([resumed.messages.map((m) => m.event.id), resumed.truncated], [[b, c], false], 'from a live-only id: not truncated, exactly the kept events after it')
    const fromFirst = await bus.history.after(first, 100)
    t.same([fromFirst.messages.map((m) => m.event.id), fromFirst.truncated], [[a, b, c], false], 'from a live-only id older than every kept event')
    const last = await bus.publishLive(aDraft(6))
    await arrived(received, all.length + 1)
    t.equal(bus.positionOf(partitionOf(last)), last, 'the position moves past a live-only event')
    t.same(await bus.history.after(last, 10), { messages: [], truncated: false }, 'the newest id, live-only, is placed')
    t.same(await bus.history.after(`${idTime(last) + 60_000}-0`, 10), { messages: [], truncated: true }, 'an id past it is not')
  })

  t.test(`${name}: live-only and kept events published concurrently never share an id, and arrive in id order`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const results = await Promise.all(Array.from({ length: 100 }, async (_, n) =>
      n % 2 === 0 ? [await bus.publishLive(aDraft(n))] : await bus.publish([aDraft(n), aDraft(n)])))
    const all = results.flat().sort(compareIds)
    t.equal(new Set(all).size, 150, 'no id is given twice')
    await arrived(received, 150)
    t.same(received.map((m) => m.event.id), all, 'arrival order is id order')
    const kept = results.filter((ids) => ids.length === 2).flat().sort(compareIds)
    t.same((await bus.history.after('0-0', 1000)).messages.map((m) => m.event.id), kept, 'only the kept ones are in the history')
  })

  t.test(`${name}: a flood of live-only events evicts nothing, and a resume from among them is not truncated`, async (t) => {
    const bus = await makeBus(t, { maxEvents: 10 })
    const kept = await bus.publish(Array.from({ length: 5 }, (_, n) => aDraft(n)))
    const flood: string[] = []
    for (let n = 0; n < 500; n++) flood.push(await bus.publishLive(aDraft(n, { audience: 'admin' })))
    const more = await bus.publish([aDraft(9)])
    const page = await bus.history.after('0-0', 100)
    t.same([page.messages.map((m) => m.event.id), page.truncated], [[...kept, ...more], false], 'every kept event is still there, none trimmed')
    const mid = await bus.history.after(flood[250] as string, 100)
    t.same([mid.messages.map((m) => m.event.id), mid.truncated], [more, false])
  })

  t.test(`${name}: after trimming, a live-only id newer than the oldest kept event has lost nothing`, async (t) => {
    const bus = await makeBus(t, { maxEvents: 10 })
    await publishMany(bus, 300)
    const live = await bus.publishLive(aDraft(1))
    const after = await bus.publish([aDraft(2), aDraft(3)])
    const page = await bus.history.after(live, 100)
    t.same([page.messages.map((m) => m.event.id), page.truncated], [after, false])
  })
}
