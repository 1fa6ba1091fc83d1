import t from 'tap'
import { slotOf } from '../../src/cluster-slot.js'

t.test('slotOf hashes the hash tag when there is one, as Redis Cluster does', async (t) => {
  t.equal(slotOf('foo'), 12182)
  t.equal(slotOf('bar'), 5061)
  t.equal(slotOf('{user1000}.following'), 3443)
  t.equal(slotOf('{user1000}.followers'), 3443, 'one tag, one slot')
  t.equal(slotOf('foo{}'), slotOf('foo{}'), 'an empty tag hashes the whole key')
  t.not(slotOf('a{}'), slotOf('b{}'))
})
