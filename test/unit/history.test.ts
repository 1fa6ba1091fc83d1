import t from 'tap'
import type { BusMessage } from '../../src/bus/bus.js'
import { createDraft, eventJson } from '../../src/events.js'
import { lostAfter, RingHistory } from '../../src/history.js'
import { IdClock } from '../../src/wire/event-id.js'

const T0 = 1_700_000_000_000

function setup (maxEvents: number, maxAgeMs = 3_600_000) {
  const time = { now: T0 }
  const clock = new IdClock()
  const history = new RingHistory({ maxEvents, maxAgeMs }, () => time.now)
  const append = (n: number): string => {
    const draft = createDraft({ type: 'h.n', data: { n } })
    const id = clock.next(time.now)
    const message: BusMessage = { event: { id, ...draft }, json: eventJson(id, JSON.stringify(draft)) }
    history.append(message)
    return id
  }
  const read = async (since: string, limit = 100) => {
    const page = await history.after(since, limit)
    return { ids: page.messages.map((m) => m.event.id), truncated: page.truncated }
  }
  return { time, history, append, read }
}

t.test('after reads across the ring\'s wrap-around, oldest first, within the limit', async (t) => {
  const { append, read } = setup(5)
  const ids = Array.from({ length: 13 }, (_, n) => append(n))
  const kept = ids.slice(8)
  t.same(await read('0-0'), { ids: kept, truncated: true }, 'from the start: the last 5, the rest trimmed')
  for (let i = 8; i < 13; i++) t.same(await read(ids[i] as string), { ids: ids.slice(i + 1), truncated: false }, `after ${i}`)
  t.same(await read(ids[7] as string), { ids: kept, truncated: false }, 'after the last trimmed: nothing was lost')
  t.same(await read(ids[6] as string), { ids: kept, truncated: true }, 'before it: something was')
  t.same(await read(ids[8] as string, 2), { ids: ids.slice(9, 11), truncated: false }, 'the limit')
})

t.test('events older than maxAge are trimmed when read, not only when the next one comes', async (t) => {
  const { time, append, read } = setup(100, 1000)
  const old = [append(1), append(2)]
  time.now += 600
  const newer = append(3)
  time.now += 500
  t.same(await read(old[0] as string), { ids: [newer], truncated: true }, 'the second old event aged out: truncated')
  t.same(await read(old[1] as string), { ids: [newer], truncated: false }, 'since the newest trimmed one: nothing lost')
  time.now += 1000
  t.same(await read(newer), { ids: [], truncated: false }, 'empty, and the newest id is still placed')
  t.same(await read(old[0] as string), { ids: [], truncated: true })
})

t.test('an id the history cannot place is truncated: newer than it, or from before it began', async (t) => {
  const { append, read } = setup(10)
  t.same(await read('0-0'), { ids: [], truncated: false }, 'empty, from the start')
  t.same(await read(`${T0 - 1}-0`), { ids: [], truncated: true }, 'empty: any id is unknown')
  const first = append(1)
  t.same(await read(`${T0 - 1}-0`), { ids: [first], truncated: true }, 'from before the first event it ever held')
  t.same(await read('0-0'), { ids: [first], truncated: false }, 'from the start, nothing was trimmed')
  t.same(await read(`${T0 + 1}-0`), { ids: [], truncated: true }, 'newer than the newest')
})

t.test('a live-only id is placed but not kept: a resume from it is truncated only by trimming after it', async (t) => {
  const { time, history, append, read } = setup(3)
  const clock = new IdClock()
  const live = (): string => {
    const id = clock.next(time.now)
    history.noteLive(id)
    return id
  }
  time.now += 1
  const first = live()
  t.same(await read(first), { ids: [], truncated: false }, 'placed before anything was kept')
  time.now += 1
  const kept = [append(1), append(2)]
  time.now += 1
  const middle = live()
  time.now += 1
  const later = append(3)
  t.same(await read('0-0'), { ids: [...kept, later], truncated: false }, 'the ring holds the kept events only')
  t.same(await read(middle), { ids: [later], truncated: false })
  t.same(await read(first), { ids: [...kept, later], truncated: false })
  time.now += 1
  append(4)
  t.same(await read(first), { ids: [kept[1], later, `${time.now}-0`], truncated: true }, 'once an event after it is trimmed, lost')
  t.same((await read(middle)).truncated, false, 'what was trimmed came before this one')
})

t.test('the start of a partition, named with it, is placed as the start', async (t) => {
  const bounds = { origin: '5-0', newest: '9-0', oldest: '5-0', trimmed: false }
  t.equal(lostAfter('b:0-0', bounds), false, 'nothing trimmed: nothing lost from the start')
  t.equal(lostAfter('b:0-0', { ...bounds, trimmed: true }), true)
  t.equal(lostAfter('p3:7-0', bounds), false, 'a named id within the history')
})
