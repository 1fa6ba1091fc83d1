import t from 'tap'
import { MessageLimiter } from '../../src/message-limiter.js'

const LIMITS = { burst: 3, perSecond: 1, abuseLimit: 2 }

t.test('frames within the bucket are accepted; past it refused, then the connection closed', async (t) => {
  const limiter = new MessageLimiter(LIMITS, 0)
  const verdicts = Array.from({ length: 6 }, () => limiter.check(0))
  t.same(verdicts, ['accept', 'accept', 'accept', 'refuse', 'refuse', 'close'], 'the refusal past abuseLimit closes')
})

t.test('the bucket refills: a client that slows down is accepted again', async (t) => {
  const limiter = new MessageLimiter(LIMITS, 0)
  for (let n = 0; n < 3; n++) limiter.check(0)
  t.equal(limiter.check(0), 'refuse')
  t.equal(limiter.check(1000), 'accept', 'a second later, one more frame')
})

t.test('refusals are counted per 10-second window: a new window starts the count again', async (t) => {
  const limiter = new MessageLimiter({ burst: 1, perSecond: 0, abuseLimit: 2 }, 0)
  t.equal(limiter.check(0), 'accept')
  t.same([limiter.check(1), limiter.check(2)], ['refuse', 'refuse'])
  t.equal(limiter.check(10_000), 'refuse', 'a new window starts its count again')
  t.same([limiter.check(10_001), limiter.check(10_002)], ['refuse', 'close'], 'three in one window close')
})
