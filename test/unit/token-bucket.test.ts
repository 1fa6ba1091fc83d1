import t from 'tap'
import { TokenBucket } from '../../src/token-bucket.js'

t.test('a full bucket lets `capacity` actions through at once, then none', async (t) => {
  const bucket = new TokenBucket(3, 1, 0)
  t.same([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false])
})

t.test('tokens come back at `perSecond`, fractions included', async (t) => {
  const bucket = new TokenBucket(2, 4, 0)
  bucket.take(0)
  bucket.take(0)
  t.equal(bucket.take(100), false, 'a tenth of a second is 0.4 of a token')
  t.equal(bucket.take(250), true, 'a quarter of a second is one token, the 0.4 counted in')
  t.equal(bucket.take(250), false, 'and only one')
})

t.test('an idle bucket fills up to its capacity, never past it', async (t) => {
  const bucket = new TokenBucket(2, 10, 0)
  t.equal(bucket.take(0), true)
  const after = [bucket.take(3_600_000), bucket.take(3_600_000), bucket.take(3_600_000)]
  t.same(after, [true, true, false], 'an hour idle still holds two')
})
