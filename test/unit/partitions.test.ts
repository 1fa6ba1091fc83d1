import t from 'tap'
import { slotOf } from '../../src/cluster-slot.js'
import { fnv1a, Partitioning } from '../../src/partitions.js'

t.test('one partition holds everything, named as before', async (t) => {
  const one = new Partitioning(1)
  t.same(one.all, ['p0'])
  t.equal(one.of({ type: 'security.alert', userId: 'u1' }), 'p0')
  t.equal(one.of({ type: 'system.notice' }), 'p0')
  t.same(one.read('events', 'u1'), ['p0'])
  t.equal(one.tag('p0'), 'p0')
  t.equal(one.wireId('p0', '5-1'), '5-1')
})

t.test('several partitions: users by hash, broadcasts to b, user-less admin events to a', async (t) => {
  const sixteen = new Partitioning(16)
  t.equal(sixteen.all.length, 18)
  t.equal(sixteen.of({ type: 'security.alert', userId: 'u1' }), `p${fnv1a('u1') % 16}`)
  t.equal(sixteen.of({ type: 'system.notice' }), 'b')
  t.equal(sixteen.of({ type: 'admin.user.locked' }), 'a')
  t.equal(sixteen.of({ type: 'system.audit', audience: 'admin' }), 'a')
  t.equal(sixteen.of({ type: 'session.revoked', audience: 'admin', control: 'revocation' }), 'b', 'a user-less control event reaches every instance')
  t.equal(sixteen.of({ type: 'admin.user.locked', userId: 'u1' }), sixteen.ofUser('u1'), 'a user\'s events stay in one stream')
  t.same(sixteen.read('events', 'u1'), [sixteen.ofUser('u1'), 'b'])
  t.same(sixteen.read('admin', 'u1'), sixteen.all)
  t.equal(sixteen.wireId('b', '5-1'), 'b:5-1')
  t.throws(() => sixteen.tag('p16'))
  t.throws(() => new Partitioning(0))
  t.throws(() => new Partitioning(257))
})

t.test('user partitions spread evenly over users and over the slot ranges', async (t) => {
  const sixteen = new Partitioning(16)
  const counts = new Map<string, number>()
  for (let i = 0; i < 10_000; i++) counts.set(sixteen.ofUser(`user-${i}`), (counts.get(sixteen.ofUser(`user-${i}`)) ?? 0) + 1)
  t.equal(counts.size, 16)
  t.ok(Math.max(...counts.values()) < 1.15 * 10_000 / 16, `most users in one partition: ${Math.max(...counts.values())}`)
  for (let i = 0; i < 16; i++) {
    const slot = slotOf(`{${sixteen.tag(`p${i}`)}}`)
    t.ok(slot >= i * 1024 && slot < (i + 1) * 1024, `p${i} in its slot range (${slot})`)
  }
  t.equal(new Partitioning(16).tag('p7'), sixteen.tag('p7'), 'every instance picks the same tags')
})

t.test('fnv1a is the 32-bit FNV-1a of the UTF-8 bytes', async (t) => {
  t.equal(fnv1a(''), 0x811c9dc5)
  t.equal(fnv1a('a'), 0xe40c292c)
  t.equal(fnv1a('foobar'), 0xbf9cf968)
})
