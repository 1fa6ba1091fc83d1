import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import type { SecurityEventType } from '../../src/security.js'
import { connect, connectAs, type EventPayload, type Frame, refusedUpgrade, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS, startPair } from '../helpers/cluster.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'

/** Signed, well formed, and signed with the wrong key: refused `token_invalid`. */
const FORGED = token({ sub: 'mallory' }, 'not-the-gateway-secret-but-long-enough-for-hs256')
const ALLOWED_ORIGIN = 'https://app.example.com'
const FOREIGN_ORIGIN = 'https://evil.example.net'

/**
 * Every limit small enough to hit in a few frames, every refusal this file does not provoke on
 * purpose lenient (all clients share 127.0.0.1), and security events plentiful: these tests
 * are about what is reported, the flood test about how much.
 */
const ENV = {
  ...LENIENT_LIMITS,
  ALLOWED_ORIGINS: ALLOWED_ORIGIN,
  MAX_CONNECTIONS_PER_USER: '1',
  WEBSOCKET_MESSAGE_BURST: '2',
  WEBSOCKET_MESSAGE_RATE: '0.1',
  WEBSOCKET_MESSAGE_ABUSE_LIMIT: '1',
  SECURITY_EVENTS_PER_SECOND: '1000'
}

const isSecurityEvent = (type: SecurityEventType, data: Record<string, unknown> = {}) => (frame: Frame): boolean =>
  frame.type === 'event' && frame.payload.type === type &&
  Object.entries(data).every(([key, value]) => (frame.payload.data as Record<string, unknown>)[key] === value)

async function adminWatching (t: Test, gw: Gateway): Promise<TestClient> {
  const admin = await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken())
  t.equal((await admin.subscribe('security.*')).type, 'subscribed')
  return admin
}

/** A socket refused at its token: accepted, then closed 4001. */
async function badTokenAttempt (t: Test, gw: Gateway, bearer = FORGED): Promise<{ code: number, reason: string }> {
  return await (await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${bearer}` } })).closed
}

interface Provocation {
  name: string
  type: SecurityEventType
  /** What the event's `data` must hold (and, for the waiting admin, tells two events of one type apart). */
  data: Record<string, unknown>
  provoke: (t: Test, gw: Gateway) => Promise<void>
}

const provocations: Provocation[] = [
  {
    name: 'a bad token on /ws/events',
    type: 'security.auth.failed',
    data: { reason: 'token_invalid', ip: '127.0.0.1', route: '/ws/events' },
    provoke: async (t, gw) => {
      // In the query, where a field that carried the URL would leak it.
      const client = await connect(t, `${gw.wsUrl}/ws/events?token=${FORGED}`)
      t.same(await client.closed, { code: 4001, reason: 'token_invalid' })
    }
  },
  {
    name: 'an upgrade with a foreign Origin',
    type: 'security.origin.rejected',
    data: { reason: 'origin_not_allowed', origin: FOREIGN_ORIGIN, ip: '127.0.0.1' },
    provoke: async (t, gw) => {
      t.equal((await refusedUpgrade(`${gw.wsUrl}/ws/events`, { origin: FOREIGN_ORIGIN, headers: { authorization: `Bearer ${userToken('olga')}` } })).status, 403)
    }
  },
  {
    name: 'a user subscribing to admin.*',
    type: 'security.subscription.forbidden',
    data: { userId: 'mallory' },
    provoke: async (t, gw) => {
      const mallory = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('mallory'))
      t.match(await mallory.subscribe('admin.*'), { type: 'error', payload: { code: 'FORBIDDEN' } })
    }
  },
  {
    name: 'a connection closed 1008 by the message limiter',
    type: 'security.rate_limit.exceeded',
    data: { reason: 'message_rate', userId: 'flooder' },
    provoke: async (t, gw) => {
      const flooder = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('flooder'))
      // A burst of 2, then one refusal allowed: the fourth frame closes the socket.
      for (let i = 0; i < 4; i++) flooder.send({ type: 'ping', id: i })
      t.same(await flooder.closed, { code: 1008, reason: 'rate_limited' })
    }
  },
  {
    name: 'a second socket of a user with MAX_CONNECTIONS_PER_USER=1',
    type: 'security.rate_limit.exceeded',
    data: { reason: 'too_many_connections', userId: 'twice', ip: '127.0.0.1' },
    provoke: async (t, gw) => {
      await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('twice'))
      const second = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('twice')}` } })
      t.same(await second.closed, { code: 4008, reason: 'too_many_connections' })
    }
  }
]

for (const { name, type, data, provoke } of provocations) {
  t.test(`an admin on /ws/admin sees ${type} live for ${name}`, async (t) => {
    const gw = await startGateway(t, ENV)
    const admin = await adminWatching(t, gw)
    await provoke(t, gw)
    const frame = await admin.next(isSecurityEvent(type, data))
    t.match(frame.payload, { type, audience: 'admin', data: { ...data, serverId: gw.app.config.serverId } })
    t.notOk(JSON.stringify(frame).includes(FORGED), 'the raw token appears nowhere in the frame')
    t.notOk(JSON.stringify(frame).includes(FORGED.split('.')[2] ?? FORGED), 'nor does its signature')
  })
}

t.test('a user stream subscribed to security.* and * receives none of them', async (t) => {
  const gw = await startGateway(t, ENV)
  const admin = await adminWatching(t, gw)
  const olivia = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('olivia'))
  t.same((await olivia.subscribe('security.*', '*')).payload.eventTypes, ['security.*', '*'])
  for (const { type, data, provoke } of provocations) {
    await provoke(t, gw)
    await admin.next(isSecurityEvent(type, data))
  }
  // Each fact above reached the admin first, and the bus keeps order: had any reached olivia,
  // it would come before this marker.
  t.equal((await post(`${gw.url}/events`, { type: 'test.marker', userId: 'olivia' }, serviceToken())).status, 202)
  const first = (await olivia.next('event')).payload as unknown as EventPayload
  t.equal(first.type, 'test.marker', 'the marker is the first event the user sees')
  t.notOk(olivia.frames.some((f) => f.type === 'event'), 'and nothing else is queued')
})

t.test('a flood of failures from one address: five audited, one published, the rest summarised and counted by the next event', async (t) => {
  const redis = await RedisServer.start(t)
  // The admin watches from another instance: its own connect is a lifecycle event
  // (`session.created`) that would take the flooded instance's one token.
  const flooded = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url, SERVER_ID: 'flooded', SECURITY_EVENTS_PER_SECOND: '1', AUDIT_REPEAT_WINDOW: '300' }, { captureLogs: true })
  const watcher = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url, SERVER_ID: 'watcher' })
  await until(() => flooded.app.bus.connected && watcher.app.bus.connected, 10_000, 'both gateways to reach Redis')
  const admin = await adminWatching(t, watcher)
  const failed = isSecurityEvent('security.auth.failed', { serverId: 'flooded' })
  const auditLines = (): Array<{ repeated?: number, msg: string }> => flooded.logs.map((l) => JSON.parse(l) as { audit?: unknown, repeated?: number, msg: string }).filter((l) => l.audit === 'security.auth.failed')

  const closes = await Promise.all(Array.from({ length: 10 }, async () => await badTokenAttempt(t, flooded)))
  t.same(new Set(closes.map((c) => `${c.code} ${c.reason}`)), new Set(['4001 token_invalid']), 'all 10 refused')
  const first = (await admin.next(failed)).payload as unknown as EventPayload
  t.match(first, { audience: 'admin', data: { reason: 'token_invalid' } }, 'one event goes out at once')
  t.notOk('suppressed' in first.data, 'it is the first, nothing was suppressed before it')
  await until(() => auditLines().some((l) => l.repeated !== undefined), 5000, 'the window to close and be summarised')
  const lines = auditLines()
  t.equal(lines.length, 6, 'five audit lines, then one summary')
  t.match(lines[5], { repeated: 5, msg: /^5 more security\.auth\.failed from 127\.0\.0\.1 in the last \d+ s$/ })

  let attempts = 0
  await until(async () => {
    if (admin.frames.some(failed)) return true
    attempts++
    await badTokenAttempt(t, flooded)
    return false
  }, 5000, 'the bucket to refill and a second event to go out')
  const second = (await admin.next(failed)).payload as unknown as EventPayload
  // One instance publishes on one connection, in order: the summary, had the budget let it
  // through, would have arrived first, saying 5 repeated and 4 suppressed.
  const accounted = Number(second.data.suppressed ?? 0) + Number(second.data.repeated ?? 0)
  t.ok(accounted >= 9, `the next event accounts for the 9 left out (suppressed ${String(second.data.suppressed)}, repeated ${String(second.data.repeated)})`)
  t.ok(accounted <= 9 + attempts, 'and for no more than were really left out')
})

t.test('an auth failure on instance A is seen live by an admin on instance B', async (t) => {
  const { a, b } = await startPair(t)
  const admin = await adminWatching(t, b)
  t.same(await badTokenAttempt(t, a), { code: 4001, reason: 'token_invalid' })
  const frame = await admin.next(isSecurityEvent('security.auth.failed', { serverId: 'a' }))
  t.match(frame.payload, { audience: 'admin', data: { reason: 'token_invalid', ip: '127.0.0.1', route: '/ws/events', serverId: 'a' } })
})
