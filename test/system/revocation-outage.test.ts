import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { connect } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/**
 * Revocations while Redis is unreachable, and after it lost its data: what this instance applied
 * stays enforced for REVOCATION_TTL, admin and publishing tokens fail closed, users' tokens open.
 */

// Each check below is an upgrade, a refused one counting as a failed authentication: neither
// limit is under test here.
const ENV = { AUTH_FAILURE_LIMIT: '100000', RATE_LIMIT_UPGRADES: '100000' }

/** Opens a socket with `bearer`: `connected`, or the refusal's close code and reason. */
async function attempt (t: Test, url: string, bearer: string): Promise<string> {
  const client = await connect(t, url, { headers: { authorization: `Bearer ${bearer}` } })
  if (client.frames.some((f) => f.type === 'connected')) {
    client.close()
    return 'connected'
  }
  const { code, reason } = await within(client.closed, 5000, 'the refusal')
  return `${code} ${reason}`
}

/** Pace between two checks of a clock-driven lapse; every check is an upgrade. */
const POLL_MS = 250

t.test('a revocation this instance applied outlives a Redis outage and a Redis that lost its data, for REVOCATION_TTL', async (t) => {
  const ttlMs = 15_000
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { ...ENV, REDIS_URL: redis.url, REVOCATION_TTL: String(ttlMs) })
  const url = `${gw.wsUrl}/ws/events`
  const alice = userToken('alice')
  t.equal(await attempt(t, url, alice), 'connected')
  const open = await connect(t, url, { headers: { authorization: `Bearer ${alice}` } })
  const revoked = await post(`${gw.url}/sessions/session-alice/revoke`, {}, serviceToken())
  t.equal(revoked.status, 202)
  const revokedAt = Date.parse((revoked.body.revoked as { revokedAt: string }).revokedAt)
  // Its socket closed: this instance has applied the revocation, and remembers it.
  t.same(await within(open.closed, 5000, 'the revoked socket to close'), { code: 4001, reason: 'session_revoked' })

  await redis.stop()
  const outcomes: Array<{ after: number, outcome: string, redis: 'down' | 'empty' }> = []
  let state: 'down' | 'empty' = 'down'
  for (;;) {
    const outcome = await attempt(t, url, alice)
    const after = Date.now() - revokedAt
    outcomes.push({ after, outcome, redis: state })
    if (outcome === 'connected' || after >= ttlMs + 5000) break
    if (state === 'down' && after > 11_000) {
      // Back, without the revocation keys: only this instance's memory still has it.
      await redis.start()
      await until(() => gw.app.redis?.status === 'ready', 10_000, 'the gateway to reconnect')
      state = 'empty'
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  const refused = outcomes.filter((o) => o.outcome === '4001 session_revoked')
  const accepted = outcomes.find((o) => o.outcome === 'connected')
  t.comment(`refused until ${Math.max(...refused.map((o) => o.after))} ms after the revocation, accepted at ${String(accepted?.after)} ms (REVOCATION_TTL ${ttlMs} ms)`)
  t.equal(refused.length, outcomes.length - 1, 'every check before the lapse refused session_revoked')
  t.ok(refused.some((o) => o.redis === 'down' && o.after > 10_000), 'still refused more than 10 s into the outage')
  t.ok(refused.some((o) => o.redis === 'empty'), 'and after Redis came back without its data')
  t.ok(accepted !== undefined && accepted.after >= ttlMs && accepted.after < ttlMs + 5000, 'accepted again once REVOCATION_TTL has passed, not before')
})

t.test('while Redis is down admin and publishing tokens are refused revocation_unavailable, users accepted; logged once, counted', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { ...ENV, REDIS_URL: redis.url }, { captureLogs: true })
  const adminUrl = `${gw.wsUrl}/ws/admin`
  t.equal(await attempt(t, adminUrl, adminToken()), 'connected', 'an admin before the outage')

  await redis.stop()
  t.equal(await attempt(t, adminUrl, adminToken()), '1013 revocation_unavailable', 'an admin during it')
  t.equal(await attempt(t, `${gw.wsUrl}/ws/events`, adminToken()), '1013 revocation_unavailable', 'on any stream')
  t.match(await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken()), { status: 503, body: { code: 'EVENTGATE_BUS_UNAVAILABLE', message: /^revocation_unavailable: / } }, 'a service')
  t.match(await get(`${gw.url}/ws/stats`, adminToken()), { status: 503, body: { message: /^revocation_unavailable: / } }, 'an admin over HTTP')
  t.equal(await attempt(t, `${gw.wsUrl}/ws/events`, userToken('alice')), 'connected', 'a user during it')

  const metrics = await (await fetch(`${gw.url}/metrics`)).text()
  t.match(metrics, /^eventgate_auth_failures_total\{reason="revocation_unavailable"\} 4$/m, 'refusals counted by reason')
  t.match(metrics, /^eventgate_revocations_unchecked_total 5$/m, 'every unchecked authentication counted')
  const unreadable = gw.logs.filter((l) => l.includes('revocations unreadable'))
  t.equal(unreadable.length, 1, 'the outage is logged once')

  await redis.start()
  await until(async () => await attempt(t, adminUrl, adminToken()) === 'connected', 15_000, 'an admin accepted once Redis is back')
  t.equal(gw.logs.filter((l) => l.includes('revocations readable again')).length, 1, 'and its end once')
})
