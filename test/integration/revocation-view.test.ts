import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connect } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'
import { RedisProxy } from '../helpers/redis-proxy.js'
import { within } from '../helpers/within.js'

/**
 * On one Redis each instance holds every live revocation, so an upgrade reads none from Redis:
 * one revoked on another instance, before this one started, or while it could not hear of it,
 * is refused all the same.
 */

/** Opens a socket with `bearer`: `connected`, or the refusal's close code and reason. */
async function attempt (t: Test, gateway: Gateway, bearer: string): Promise<string> {
  const client = await connect(t, `${gateway.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${bearer}` } })
  if (client.frames.some((f) => f.type === 'connected')) {
    client.close()
    return 'connected'
  }
  const { code, reason } = await within(client.closed, 5000, 'the refusal')
  return `${code} ${reason}`
}

/** GETs Redis has run so far: the store's revocation reads are GETs. */
async function gets (redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats')
  return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

/** `attempt`, checking that it read nothing from Redis. */
async function attemptLocally (t: Test, gateway: Gateway, bearer: string, inspector: Redis): Promise<string> {
  const before = await gets(inspector)
  const outcome = await attempt(t, gateway, bearer)
  t.equal(await gets(inspector), before, 'the upgrade read no revocation from Redis')
  return outcome
}

async function revokeSession (gateway: Gateway, sessionId: string): Promise<void> {
  const revoked = await post(`${gateway.url}/sessions/${sessionId}/revoke`, {}, serviceToken())
  if (revoked.status !== 202) throw new Error(`revoke answered ${revoked.status}`)
}

async function local (gateway: Gateway): Promise<void> {
  await until(() => gateway.app.revocations.local, 5000, 'the revocations to be loaded')
}

async function setup (t: Test) {
  const redis = await RedisServer.start(t)
  const inspector = new Redis(redis.url)
  t.teardown(() => { inspector.disconnect() })
  return { redis, inspector }
}

t.test('a revocation made on one instance is refused on another, and on one started after it, without a read', async (t) => {
  const { redis, inspector } = await setup(t)
  const env = { ...LENIENT_LIMITS, REDIS_URL: redis.url }
  const [a, b] = [await startGateway(t, env), await startGateway(t, env)]
  await Promise.all([local(a), local(b)])
  const bob = userToken('bob')
  t.equal(await attemptLocally(t, b, bob, inspector), 'connected')
  // Bob has no socket anywhere: no control event reaches b for him.
  await revokeSession(a, 'session-bob')
  await until(async () => await attempt(t, b, bob) !== 'connected', 5000, 'b to hear of the revocation')
  t.equal(await attemptLocally(t, b, bob, inspector), '4001 session_revoked')
  t.equal(await attemptLocally(t, b, userToken('alice'), inspector), 'connected', 'others still pass')

  const c = await startGateway(t, env)
  await local(c)
  t.equal(await attemptLocally(t, c, bob, inspector), '4001 session_revoked', 'an instance started after the revocation refuses it')
})

t.test('a revocation announced while an instance could not hear it is refused once it is back', async (t) => {
  const { redis, inspector } = await setup(t)
  const proxy = await RedisProxy.start(t, redis.port)
  const a = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url })
  const b = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: proxy.url })
  await Promise.all([local(a), local(b)])
  const carol = userToken('carol')
  t.equal(await attemptLocally(t, b, carol, inspector), 'connected')
  // b's subscriptions stop hearing Redis; then the connections drop, and what was held is lost.
  proxy.holdSubscriptions()
  await revokeSession(a, 'session-carol')
  proxy.cut()
  await until(() => !b.app.revocations.local, 5000, 'b to notice its subscription dropped')
  await local(b)
  t.equal(await attemptLocally(t, b, carol, inspector), '4001 session_revoked', 'the reload brought the missed revocation')
})
