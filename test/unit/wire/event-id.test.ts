import t from 'tap'
import { compareIds, EVENT_ID_PATTERN, IdClock, isEventId, localId, partitionOf } from '../../../src/wire/event-id.js'

t.test('isEventId accepts <ms>-<seq> and nothing else', async (t) => {
  for (const id of ['0-0', '1732380000000-0', '1732380000000-42', '9999999999999999-9999999999999999']) t.ok(isEventId(id), id)
  for (const id of ['', '1', '1-', '-1', '1-2-3', 'a-1', '1-a', ' 1-1', '1-1\n', '1.0-1', '+1-1', '12345678901234567-0', 1, null, undefined, ['1-1']]) {
    t.notOk(isEventId(id), JSON.stringify(id) ?? String(id))
  }
  t.ok(EVENT_ID_PATTERN.test('1-1'))
})

t.test('compareIds orders by milliseconds, then by sequence, as numbers', async (t) => {
  const sorted = ['0-0', '1-0', '1-9', '1-10', '9-0', '10-0', '1732380000000-0', '1732380000000-1', '1732380000001-0']
  t.same([...sorted].reverse().sort(compareIds), sorted)
  t.equal(compareIds('5-5', '5-5'), 0)
  t.ok(compareIds('1-10', '1-9') > 0, 'not as text')
  t.ok(compareIds('10-0', '9-99') > 0, 'not as text')
})

t.test('IdClock issues increasing ids: a new millisecond starts at 0, the same or an earlier one counts on', async (t) => {
  const clock = new IdClock()
  t.equal(clock.next(1000), '1000-0')
  t.equal(clock.next(1000), '1000-1')
  t.equal(clock.next(1001), '1001-0')
  t.equal(clock.next(999), '1001-1', 'a clock that steps back does not make an id go back')
  t.equal(clock.next(1002), '1002-0')
  const ids = Array.from({ length: 1000 }, () => clock.next())
  t.ok(ids.every((id, i) => i === 0 || compareIds(ids[i - 1] as string, id) < 0), 'strictly increasing at full speed')
})

t.test('an id may name its partition; ids compare by their place in it', async (t) => {
  for (const id of ['p0:1-1', 'p255:1732380000000-0', 'b:1-1', 'a:0-0']) t.ok(isEventId(id), id)
  for (const id of ['p:1-1', 'p1000:1-1', 'c:1-1', 'p1:', ':1-1', 'p1:p2:1-1', 'P1:1-1']) t.notOk(isEventId(id), id)
  t.equal(partitionOf('p3:5-1'), 'p3')
  t.equal(partitionOf('5-1'), 'p0')
  t.equal(localId('b:5-1'), '5-1')
  t.equal(localId('5-1'), '5-1')
  t.ok(compareIds('p3:10-0', 'p3:9-9') > 0)
  t.ok(compareIds('b:1-10', '1-9') > 0)
  t.equal(compareIds('a:5-5', '5-5'), 0)
})
