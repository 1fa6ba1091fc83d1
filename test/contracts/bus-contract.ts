import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { type Bus, type BusMessage, BusUnavailableError } from '../../src/bus/bus.js'
import { createDraft, type EventDraft, type EventInput, eventJson } from '../../src/events.js'
import type { Retention } from '../../src/history.js'
import { compareIds, EVENT_ID_PATTERN } from '../../src/wire/event-id.js'

/**
 * Makes a bus on a medium of its own that is up (so every test starts from an empty history),
 * registering its teardown on `t`. `retention` overrides the generous default.
 */
export type BusFactory = (t: Test, retention?: Partial<Retention>) => Promise<Bus>

export const RETENTION: Retention = { maxEvents: 10_000, maxAgeMs: 3_600_000 }
const TTL_MS = 60_000
const BARRIER = 'contract.barrier'

/** Subscribes a recording handler and waits (bounded) until the bus reports itself connected. */
export async function subscribed (bus: Bus): Promise<BusMessage[]> {
  const received: BusMessage[] = []
  await bus.subscribe((message) => { received.push(message) })
  await until(() => bus.connected, 5000, 'the bus to connect')
  return received
}

export async function arrived (received: readonly BusMessage[], count: number, timeoutMs = 5000): Promise<void> {
  await until(() => received.length >= count, timeoutMs, `${count} bus messages (have ${received.length})`)
}

export const aDraft = (n = 0, input: Partial<EventInput> = {}): EventDraft =>
  createDraft({ type: 'contract.event.sent', userId: `user-${n}`, data: { n }, ...input })

/**
 * Publishes a barrier and waits for it. Delivery is in id order, so once the barrier is in,
 * everything published before it has been delivered: a second delivery would show up here.
 * Returns the ids received so far, barriers left out.
 */
export async function drained (bus: Bus, received: readonly BusMessage[]): Promise<string[]> {
  const [barrier] = await bus.publish([createDraft({ type: BARRIER })])
  await until(() => received.some((m) => m.event.id === barrier), 5000, 'the barrier')
  return received.filter((m) => m.event.type !== BARRIER).map((m) => m.event.id)
}

export const increasing = (ids: readonly string[]): boolean => ids.every((id, i) => i === 0 || compareIds(ids[i - 1] as string, id) < 0)

export const idTime = (id: string): number => Number(id.slice(0, id.indexOf('-')))

/** The ids of `count` events published in batches of at most 100, in order. */
export async function publishMany (bus: Bus, count: number, first = 0): Promise<string[]> {
  const ids: string[] = []
  for (let n = first; n < first + count; n += 100) {
    ids.push(...await bus.publish(Array.from({ length: Math.min(100, first + count - n) }, (_, k) => aDraft(n + k))))
  }
  return ids
}

/**
 * What every bus guarantees, run against each implementation:
 * - publish gives each draft an id, in order, and the handler receives each event once, in id
 *   order, as the event with that id and its JSON text (eventJson); a batch is all or nothing;
 * - idempotency keys (per request, per event) within their TTL return the first ids and
 *   publish nothing again;
 * - the history returns what was published after an id, and says `truncated` when it no longer
 *   holds all of it: trimmed by count or age, or an id it cannot place;
 * - live-only events: see liveOnlyContract (bus-live-contract.ts);
 * - probe resolves; after close(), `connected` is false and publish rejects with
 *   BusUnavailableError, so nothing more is handed to the medium on this bus's behalf.
 */
export function busContract (name: string, makeBus: BusFactory): void {
  t.test(`${name}: publish resolves with ordered ids; the handler gets those events, in order, as eventJson`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const drafts = [
      aDraft(1),
      aDraft(2, { sessionId: 's-2', data: { text: 'café "quoted" \u2028', list: [1, null, { deep: true }] } }),
      createDraft({ type: 'contract.audit', audience: 'admin', control: 'revocation', data: { sessionId: 's-1' } })
    ]
    const ids = await bus.publish(drafts)
    t.equal(ids.length, 3, 'one id per draft')
    for (const id of ids) t.match(id, EVENT_ID_PATTERN)
    t.ok(increasing(ids), `ids increase in draft order: ${ids.join(' ')}`)
    await arrived(received, 3)
    t.same(received.map((m) => m.event), drafts.map((d, i) => ({ id: ids[i], ...d })))
    t.same(received.map((m) => m.json), drafts.map((d, i) => eventJson(ids[i] as string, JSON.stringify(d))))
    const [next] = await bus.publish([aDraft(4)])
    t.ok(compareIds(ids[2] as string, next as string) < 0, 'the next publish gets a greater id')
    t.same(await drained(bus, received), [...ids, next])
  })

  t.test(`${name}: ids strictly increase, and 200 events published concurrently arrive in id order, once`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    // Not awaited one by one: the publisher fires requests the same way.
    const results = await Promise.all(Array.from({ length: 50 }, async (_, n) =>
      await bus.publish(n % 2 === 0 ? [aDraft(n)] : [aDraft(n), aDraft(n), aDraft(n), aDraft(n), aDraft(n), aDraft(n), aDraft(n)])))
    const all = results.flat().sort(compareIds)
    t.equal(all.length, 200)
    t.equal(new Set(all).size, 200, 'no id is given twice')
    t.ok(results.every(increasing), 'each publish\'s ids increase')
    t.ok(results.every((ids, n) => n === 0 || compareIds(results[n - 1]?.at(-1) as string, ids[0] as string) < 0), 'publishes are numbered in the order they were made')
    await arrived(received, 200)
    t.same(received.map((m) => m.event.id), all, 'arrival order is id order')
  })

  t.test(`${name}: a batch is all or nothing: consecutive, never interleaved; a refused publish leaves no trace`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const batches = await Promise.all(Array.from({ length: 20 }, async (_, n) =>
      await bus.publish(Array.from({ length: 5 }, (_, k) => aDraft(n * 10 + k)))))
    await arrived(received, 100)
    const order = received.map((m) => m.event.id)
    for (const batch of batches) {
      const at = order.indexOf(batch[0] as string)
      t.same(order.slice(at, at + 5), batch, `batch ${batch[0] ?? ''} arrives whole and together`)
    }
    const history = await bus.history.after('0-0', 1000)
    t.same(history.messages.map((m) => m.event.id), order, 'and is in the history whole, in the same order')

    const last = order.at(-1) as string
    await bus.close()
    await t.rejects(bus.publish([aDraft(1), aDraft(2)]), BusUnavailableError)
    t.same((await bus.history.after(last, 10)).messages, [], 'nothing of the refused batch reached the history')
  })

  t.test(`${name}: the same request key within its TTL returns the first ids and publishes nothing again`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const first = await bus.publish([aDraft(1), aDraft(2)], { ttlMs: TTL_MS, requestKey: 'p1:request:k1' })
    t.same(await bus.publish([aDraft(1), aDraft(2)], { ttlMs: TTL_MS, requestKey: 'p1:request:k1' }), first, 'a retry gets the same ids')
    t.same(await bus.publish([aDraft(3)], { ttlMs: TTL_MS, requestKey: 'p1:request:k1' }), first, 'the key decides, not the body')
    const other = await bus.publish([aDraft(1), aDraft(2)], { ttlMs: TTL_MS, requestKey: 'p1:request:k2' })
    t.ok(compareIds(first[1] as string, other[0] as string) < 0, 'another key publishes anew')
    t.same(await drained(bus, received), [...first, ...other], 'each event is delivered once')
    const history = (await bus.history.after('0-0', 100)).messages.filter((m) => m.event.type !== BARRIER)
    t.same(history.map((m) => m.event.id), [...first, ...other], 'and is in the history once')
  })

  t.test(`${name}: per-event keys inside a batch: known events keep their ids, new ones are published`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const first = await bus.publish([aDraft(1), aDraft(2), aDraft(3)], { ttlMs: TTL_MS, eventKeys: ['p1:event:a', undefined, 'p1:event:c'] })
    const second = await bus.publish([aDraft(1), aDraft(4), aDraft(3)], { ttlMs: TTL_MS, eventKeys: ['p1:event:a', 'p1:event:d', 'p1:event:c'] })
    t.equal(second[0], first[0], 'a')
    t.equal(second[2], first[2], 'c')
    t.ok(compareIds(first[2] as string, second[1] as string) < 0, 'd is new')
    const repeated = await bus.publish([aDraft(5), aDraft(6)], { ttlMs: TTL_MS, eventKeys: ['p1:event:e', 'p1:event:e'] })
    t.equal(repeated[1], repeated[0], 'a key repeated within one batch publishes once')
    const delivered = await drained(bus, received)
    t.same(delivered, [...first, second[1], repeated[0]], 'only new events are delivered')
    t.same(received.find((m) => m.event.id === repeated[0])?.event.data, { n: 5 }, 'the first of the repeated ones')
  })

  t.test(`${name}: idempotency keys are forgotten after their TTL`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const ttlMs = 200
    const started = Date.now()
    const first = await bus.publish([aDraft(1)], { ttlMs, requestKey: 'p1:request:short' })
    const [perEvent] = await bus.publish([aDraft(2)], { ttlMs, eventKeys: ['p1:event:short'] })
    t.same(await bus.publish([aDraft(1)], { ttlMs, requestKey: 'p1:request:short' }), first, 'remembered within the TTL')
    // Every retry before the key expires returns the first ids and publishes nothing.
    let again: string[] = []
    await until(async () => {
      again = await bus.publish([aDraft(1)], { ttlMs, requestKey: 'p1:request:short' })
      return again[0] !== first[0]
    }, 5000, 'the request key to expire')
    t.ok(Date.now() - started >= ttlMs, 'not before the TTL')
    let againEvent: string | undefined
    await until(async () => {
      [againEvent] = await bus.publish([aDraft(2)], { ttlMs, eventKeys: ['p1:event:short'] })
      return againEvent !== perEvent
    }, 5000, 'the event key to expire')
    t.same(await drained(bus, received), [...first, perEvent, ...again, againEvent])
  })

  t.test(`${name}: history.after returns what was published after an id, in order, within a limit`, async (t) => {
    const bus = await makeBus(t)
    t.same(await bus.history.after('0-0', 100), { messages: [], truncated: false }, 'an empty history, from the start')
    const drafts = Array.from({ length: 10 }, (_, n) => aDraft(n))
    const ids = await bus.publish(drafts)
    const page = await bus.history.after(ids[3] as string, 100)
    t.equal(page.truncated, false)
    t.same(page.messages.map((m) => m.event), drafts.slice(4).map((d, i) => ({ id: ids[i + 4], ...d })))
    t.same(page.messages.map((m) => m.json), drafts.slice(4).map((d, i) => eventJson(ids[i + 4] as string, JSON.stringify(d))))
    t.same(await bus.history.after('0-0', 100).then((p) => [p.messages.map((m) => m.event.id), p.truncated]), [ids, false], 'from the start')
    t.same((await bus.history.after(ids[3] as string, 2)).messages.map((m) => m.event.id), ids.slice(4, 6), 'at most `limit`, the oldest first')
    const paged: string[] = []
    for (let since = '0-0'; ;) {
      const { messages } = await bus.history.after(since, 3)
      if (messages.length === 0) break
      paged.push(...messages.map((m) => m.event.id))
      since = messages.at(-1)?.event.id as string
    }
    t.same(paged, ids, 'paging by the last id read misses nothing')
    t.same(await bus.history.after(ids[9] as string, 100), { messages: [], truncated: false }, 'nothing after the newest')
  })

  t.test(`${name}: trimmed by count: the newest are kept, and since older than them is truncated`, async (t) => {
    const maxEvents = 10
    const bus = await makeBus(t, { maxEvents })
    const ids = await publishMany(bus, 300)
    const page = await bus.history.after(ids[0] as string, 1000)
    t.equal(page.truncated, true, 'events after since were trimmed')
    const kept = page.messages.map((m) => m.event.id)
    t.ok(kept.length >= maxEvents && kept.length < 299, `kept at least HISTORY_MAX_EVENTS and trimmed the rest (kept ${kept.length})`)
    t.same(kept, ids.slice(ids.length - kept.length), 'what is kept is the newest, in order')
    const from = await bus.history.after(kept[0] as string, 1000)
    t.same([from.messages.map((m) => m.event.id), from.truncated], [kept.slice(1), false], 'nothing after the oldest kept event was trimmed')
    const fromStart = await bus.history.after('0-0', 1000)
    t.same([fromStart.messages.map((m) => m.event.id), fromStart.truncated], [kept, true], 'from the start: the first events were trimmed')
  })

  t.test(`${name}: trimmed by age: events older than HISTORY_MAX_AGE go, and since among them is truncated`, async (t) => {
    const maxAgeMs = 300
    const bus = await makeBus(t, { maxAgeMs })
    const old = await publishMany(bus, 300)
    await until(() => Date.now() > idTime(old.at(-1) as string) + maxAgeMs + 20, 2000, 'the old events to age out')
    const fresh = await bus.publish([aDraft(1), aDraft(2)])
    const page = await bus.history.after(old[0] as string, 1000)
    t.equal(page.truncated, true)
    const kept = page.messages.map((m) => m.event.id)
    const all = [...old, ...fresh]
    t.same(kept, all.slice(all.length - kept.length), 'what is kept is the newest, in order')
    t.same(kept.slice(-2), fresh, 'the fresh events are kept')
    t.ok(kept.length < 250, `most old events are gone (kept ${kept.length})`)
  })

  t.test(`${name}: since newer than the history, or older than anything it ever held, is truncated (history lost)`, async (t) => {
    const bus = await makeBus(t)
    t.same(await bus.history.after('1700000000000-0', 10), { messages: [], truncated: true }, 'an empty history cannot place an id')
    const ids = await bus.publish([aDraft(1), aDraft(2)])
    t.same(await bus.history.after(`${idTime(ids[1] as string) + 60_000}-0`, 10), { messages: [], truncated: true }, 'an id newer than the newest')
    const lost = await bus.history.after(`${idTime(ids[0] as string) - 60_000}-0`, 10)
    t.same([lost.messages.map((m) => m.event.id), lost.truncated], [ids, true], 'an id from before the history began: what came between is lost')
    t.same(await bus.history.after(ids[1] as string, 10), { messages: [], truncated: false }, 'the newest id is known')
  })

  t.test(`${name}: probe resolves with the round trip and hands nothing to the handler`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    const ms = await bus.probe(2000)
    t.ok(typeof ms === 'number' && ms >= 0 && ms < 2000, `round trip ${ms} ms`)
    const ids = await bus.publish([aDraft(1)])
    t.same(await drained(bus, received), ids, 'only events reach the handler')
    t.equal(bus.connected, true, 'stays connected')
  })

  t.test(`${name}: after close, is not connected and refuses to publish`, async (t) => {
    const bus = await makeBus(t)
    const received = await subscribed(bus)
    await bus.publish([aDraft(1)])
    await arrived(received, 1)
    await bus.close()
    t.equal(bus.connected, false)
    await t.rejects(bus.publish([aDraft(2)]), BusUnavailableError)
  })
}
