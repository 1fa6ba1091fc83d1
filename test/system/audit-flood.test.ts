import { request } from 'node:http'
import { Redis } from 'ioredis'
import t from 'tap'
import { until } from '../../harness/ports.js'
import type { GatewayProcess } from '../../harness/process.js'
import { startGatewayProcess } from '../../harness/process.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connectAs, type EventPayload, type Frame } from '../helpers/client.js'
import { post } from '../helpers/gateway.js'

/** Refused requests the flood sends, half to each instance, half publishes and half upgrades. */
const FLOOD = 4000
const CONCURRENCY = 32
const RETAINED = 150
/** What an attacker picks: a user agent as long as Node lets a header be, near enough. */
const USER_AGENT = `flood/${'x'.repeat(8 * 1024)}`
/** Signed with the wrong key: refused `token_invalid`, audited as `security.auth.failed`. */
const FORGED = token({ sub: 'mallory' }, 'not-the-gateway-secret-but-long-enough-for-hs256')
/** Bounds the test holds the gateway to (measured: about 500 bytes, and no growth; the code before: 6 KB and 2 MiB). */
const MAX_LOG_BYTES_PER_REQUEST = 1024
const MAX_REDIS_GROWTH_BYTES = 1024 * 1024

/** Every byte a gateway process prints from now on: its log. */
function logBytes (gateway: GatewayProcess): () => number {
  let bytes = 0
  gateway.child.stdout?.on('data', (chunk: Buffer) => { bytes += chunk.length })
  return () => bytes
}

/** A WebSocket upgrade with a forged token, answered (101 then closed 4001, or 429) and dropped. */
async function upgradeAttempt (url: string): Promise<void> {
  const { hostname, port } = new URL(url)
  await new Promise<void>((resolve) => {
    const req = request({
      hostname,
      port,
      path: '/ws/events',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        authorization: `Bearer ${FORGED}`,
        'user-agent': USER_AGENT
      }
    })
    const done = (): void => { req.destroy(); resolve() }
    req.on('upgrade', (_response, socket) => { socket.destroy(); done() })
    req.on('response', (response) => { response.resume(); response.on('end', done) })
    req.on('error', done)
    req.end()
  })
}

async function publishAttempt (url: string): Promise<number> {
  return (await post(`${url}/events`, { type: 'account.hijacked', userId: 'victim' }, FORGED, { 'user-agent': USER_AGENT })).status
}

async function usedMemory (redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])
}

t.test('a flood of refused strangers leaves a user\'s history whole, and the logs and Redis small', async (t) => {
  const redis = await RedisServer.start(t)
  const env = {
    REDIS_URL: redis.url,
    HISTORY_MAX_EVENTS: '200',
    // Every forged token is read and audited: no address is blocked before its token is.
    AUTH_FAILURE_LIMIT: '1000000',
    AUDIT_REPEAT_WINDOW: '1000'
  }
  const [a, b] = [await startGatewayProcess(t, { ...env, SERVER_ID: 'a' }), await startGatewayProcess(t, { ...env, SERVER_ID: 'b' })]
  const raw = new Redis(redis.url)
  t.teardown(() => { raw.disconnect() })

  const admin = await connectAs(t, `${a.wsUrl}/ws/admin`, adminToken())
  t.equal((await admin.subscribe('security.*')).type, 'subscribed', 'an admin watches the security events')
  const victim = await connectAs(t, `${b.wsUrl}/ws/events`, userToken('victim'))
  const ids: string[] = []
  for (let n = 0; n < RETAINED; n += 50) {
    const events = Array.from({ length: 50 }, (_, k) => ({ type: 'account.updated', userId: 'victim', data: { n: n + k } }))
    const reply = await post(`${a.url}/events`, { events }, serviceToken())
    t.equal(reply.status, 202, 'published')
    ids.push(...(reply.body as { ids: string[] }).ids)
  }
  t.equal(ids.length, RETAINED, `the victim's ${RETAINED} events are in the history`)

  const memoryBefore = await usedMemory(raw)
  const logs = [logBytes(a), logBytes(b)]
  const statuses = new Map<number, number>()
  let sent = 0
  const started = Date.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let n = sent++; n < FLOOD; n = sent++) {
      const target = n % 2 === 0 ? a : b
      if (n % 4 < 2) {
        const status = await publishAttempt(target.url)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      } else {
        await upgradeAttempt(target.url)
      }
    }
  }))
  const floodMs = Date.now() - started
  t.same([...statuses.keys()], [401], `every forged publish is refused 401 (${FLOOD} requests in ${floodMs} ms)`)

  const reply = await victim.request('subscribe', { eventTypes: ['account.*'], since: '0-0' })
  t.match(reply.payload, { replayed: RETAINED, truncated: false }, 'the victim resumes from the start: all kept, nothing trimmed')
  t.same((await victim.events(Number(reply.payload.replayed))).map((e) => e.id), ids, 'every one of them, in order')

  const bytesPerRequest = ((logs[0]?.() ?? 0) + (logs[1]?.() ?? 0)) / FLOOD
  t.ok(bytesPerRequest < MAX_LOG_BYTES_PER_REQUEST, `${bytesPerRequest.toFixed(0)} log bytes per refused request (bound ${MAX_LOG_BYTES_PER_REQUEST})`)
  const growth = await usedMemory(raw) - memoryBefore
  t.ok(growth < MAX_REDIS_GROWTH_BYTES, `Redis used_memory grew ${(growth / 1024).toFixed(0)} KiB (bound ${MAX_REDIS_GROWTH_BYTES / 1024} KiB)`)
  t.equal(await raw.xlen('eventgate:{p0}:history'), RETAINED, 'the stream holds the victim\'s events and nothing of the flood')
  // Summaries come when their windows close: after the flood, a few short lines more.
  await until(() => admin.frames.some((f) => f.type === 'event' && f.payload.type === 'security.rate_limit.exceeded' && (f.payload.data as { repeated?: number }).repeated !== undefined), 10_000, 'an admin to see a summary of the upgrades refused by the rate limit')
  const security = admin.frames.filter((f): f is Frame & { payload: EventPayload } => f.type === 'event' && String(f.payload.type).startsWith('security.')).map((f) => f.payload)
  const summaries = security.filter((e) => e.data.repeated !== undefined)
  const accounted = security.reduce((sum, e) => sum + Number(e.data.repeated ?? 1) + Number(e.data.suppressed ?? 0), 0)
  t.ok(security.some((e) => e.type === 'security.auth.failed'), 'admins saw the failures live')
  t.ok(summaries.length > 0, `and ${summaries.length} summaries; ${security.length} events stand for ${accounted} reports`)
  t.ok(security.every((e) => String(e.data.userAgent ?? '').length <= 256), 'no event carries the huge user agent')
})
