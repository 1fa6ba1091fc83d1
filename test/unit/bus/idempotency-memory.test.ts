import t from 'tap'
import { IdempotencyMemory } from '../../../src/bus/idempotency-memory.js'

t.test('ids are remembered under their key for the TTL, then forgotten', async (t) => {
  const memory = new IdempotencyMemory()
  memory.set('k', ['1-0', '2-0'], 100, 0)
  t.same(memory.get('k', 99), ['1-0', '2-0'])
  t.equal(memory.get('k', 100), undefined, 'gone at its expiry')
  t.equal(memory.get('other', 0), undefined)
})

t.test('no key, or no TTL, is nothing to remember', async (t) => {
  const memory = new IdempotencyMemory()
  memory.set(undefined, ['1-0'], 100, 0)
  memory.set('k', ['1-0'], 0, 0)
  t.equal(memory.get(undefined, 0), undefined)
  t.equal(memory.get('k', 0), undefined)
})

t.test('a key set again moves behind the others, so an expired one behind it is still found', async (t) => {
  const memory = new IdempotencyMemory()
  memory.set('a', ['1-0'], 100, 0)
  memory.set('b', ['2-0'], 100, 10)
  memory.set('a', ['3-0'], 100, 50)
  t.equal(memory.get('b', 120), undefined, 'b expired at 110, though a, set first, has not')
  t.same(memory.get('a', 120), ['3-0'], 'a lives until 150')
})
