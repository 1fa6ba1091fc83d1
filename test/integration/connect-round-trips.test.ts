import { Redis } from 'ioredis'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { startGateway } from '../helpers/gateway.js'
import { monitor } from '../helpers/redis-monitor.js'
import { within } from '../helpers/within.js'

/**
 * What an authenticated upgrade asks of Redis: one command, which counts it against the user's
 * upgrade budget and takes the user's slot. Revocations come from the instance's own view.
 */
t.test('an authenticated upgrade makes one Redis call: its upgrade count and its slot', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { REDIS_URL: redis.url })
  await until(() => gw.app.revocations.local, 5000, 'the revocations to be loaded')
  const inspector = new Redis(redis.url)
  t.teardown(() => { inspector.disconnect() })
  const seen: string[] = []
  await monitor(t, redis.port, ({ args, source }) => {
    if (source !== 'lua') seen.push(args.join(' '))
  })

  await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('dave'))
  // Redis runs commands in order: once the marker is seen, so is every command before it.
  const marker = `marker-${Date.now()}`
  await inspector.echo(marker)
  await within(until(() => seen.some((line) => line.includes(marker)), 5000, 'the marker'), 6000, 'the monitor')

  const admission = seen.filter((line) => /eventgate:(upgrades|slots|ratelimit\S*upgrade):?\S*dave/.test(line))
  t.equal(admission.length, 1, `one call for the count and the slot: ${admission.join(' | ')}`)
  t.match(admission[0], /eventgate:upgrades:dave .*eventgate:slots:dave/, 'both keys in it')
  t.same(seen.filter((line) => line.includes('revoked:')), [], 'no revocation read')
})
