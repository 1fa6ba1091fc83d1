import { request } from 'node:http'
import t, { type Test } from 'tap'
import { until } from '../../harness/ports.js'
import { RedisServer } from '../../harness/redis.js'
import { userToken } from '../../harness/tokens.js'
import { connect, type TestClient } from '../helpers/client.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { type Gateway, startGateway } from '../helpers/gateway.js'
import { RedisProxy } from '../helpers/redis-proxy.js'
import { within } from '../helpers/within.js'

const CAP = 20

interface Outcome { open: TestClient[], closes: string[] }

/** Opens one socket per user, all at once, and sorts them into open ones and close codes. */
async function upgradeAtOnce (t: Test, targets: readonly Gateway[], users: readonly string[]): Promise<Outcome> {
  const clients = await Promise.all(users.map(async (user, i) => {
    const gw = targets[i % targets.length] as Gateway
    return await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken(user)}` } })
  }))
  const outcome: Outcome = { open: [], closes: [] }
  for (const client of clients) {
    const first = client.frames[0]
    if (first?.type === 'connected') outcome.open.push(client)
    else {
      const { code, reason } = await within(client.closed, 5000, 'a refused socket to close')
      outcome.closes.push(`${code} ${reason}`)
    }
  }
  return outcome
}

const users = (count: number, prefix = 'u'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`)

/**
 * A WebSocket upgrade that authenticates and is admitted, then breaks the handshake (a
 * Sec-WebSocket-Key that is not 16 bytes of base64): ws answers 400 and never calls the route.
 */
async function brokenHandshake (gw: Gateway, user: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(`${gw.url}/ws/events`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'not-a-key', authorization: `Bearer ${userToken(user)}` }
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      reject(new Error('the broken handshake was upgraded'))
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Gateways on a Redis behind a proxy, and a burst that goes through them in lockstep: each
 * upgrade is held at its one Redis command (its user's upgrade count and slot) until all of them
 * have reached it; then every step of their admission runs for all of them at once, as on a loaded
 * instance, rather than one upgrade after the other as loopback clients otherwise arrive.
 */
async function lockstepGateways (t: Test, count: number, env: Record<string, string>) {
  const redis = await RedisServer.start(t)
  const proxy = await RedisProxy.start(t, redis.port)
  const gateways: Gateway[] = []
  for (let i = 0; i < count; i++) gateways.push(await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: proxy.url, SERVER_ID: `g${i}`, ...env }))
  await until(() => gateways.every((gw) => gw.app.bus.connected), 10_000, 'the gateways to reach Redis')
  // `reaching`: the upgrades that get a place, and so reach Redis; the rest are refused before.
  const burst = async (burstUsers: string[], reaching = burstUsers.length): Promise<Outcome> => {
    proxy.holdRepliesAfter(/eventgate:upgrades:/)
    const outcome = upgradeAtOnce(t, gateways, burstUsers)
    await until(() => proxy.marksSeen === reaching, 10_000, 'every upgrade with a place to reach Redis')
    proxy.release()
    return await outcome
  }
  return { gateways, burst }
}

async function capHolds (t: Test, gw: Gateway, burst: (users: string[], reaching: number) => Promise<Outcome>): Promise<void> {
  const first = await burst(users(60), CAP)
  t.equal(first.open.length, CAP, `60 concurrent upgrades: ${first.open.length} open`)
  t.same(new Set(first.closes), new Set(['1013 server_full']), 'the others closed 1013 server_full')
  t.equal(first.closes.length, 60 - CAP)
  t.equal(gw.app.hub.size, CAP)

  for (const client of first.open.slice(0, 5)) client.close()
  await until(() => gw.app.hub.size === CAP - 5, 5000, 'the closed sockets to leave the hub')
  const again = await burst(users(30, 'v'), 5)
  t.equal(again.open.length, 5, 'the five places freed are taken again, and no more')
  t.equal(again.closes.length, 25)
  t.equal(gw.app.hub.size, CAP)
}

t.test('WEBSOCKET_MAX_CONNECTIONS holds under 60 concurrent upgrades, admitted in lockstep through Redis', async (t) => {
  const { gateways: [gw], burst } = await lockstepGateways(t, 1, { WEBSOCKET_MAX_CONNECTIONS: String(CAP) })
  await capHolds(t, gw as Gateway, burst)
})

t.test('WEBSOCKET_MAX_CONNECTIONS holds under 60 concurrent upgrades on the in-memory default', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, WEBSOCKET_MAX_CONNECTIONS: String(CAP) })
  await capHolds(t, gw, async (burst) => await upgradeAtOnce(t, [gw], burst))
})

t.test('an admitted upgrade that never opens gives back its place and its user slot', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { ...LENIENT_LIMITS, REDIS_URL: redis.url, WEBSOCKET_MAX_CONNECTIONS: String(CAP), MAX_CONNECTIONS_PER_USER: '2' })
  const broken = await Promise.all(users(CAP + 5).map(async (user) => await brokenHandshake(gw, user)))
  t.same(new Set(broken), new Set([400]), `${broken.length} broken handshakes answered 400 by ws`)
  const alices = await Promise.all([1, 2, 3].map(async () => await brokenHandshake(gw, 'alice')))
  t.same(alices, [400, 400, 400])

  const after = await upgradeAtOnce(t, [gw], [...users(CAP - 2), 'alice', 'alice'])
  t.equal(after.open.length, CAP, 'every place is free again, and alice has both her slots')
  t.same(after.closes, [])
})

t.test('MAX_CONNECTIONS_PER_USER holds across two instances under concurrent upgrades', async (t) => {
  const { gateways, burst } = await lockstepGateways(t, 2, { MAX_CONNECTIONS_PER_USER: '5' })
  const outcome = await burst(Array.from({ length: 30 }, () => 'alice'))
  t.equal(outcome.open.length, 5, `30 concurrent upgrades on two instances: ${outcome.open.length} open`)
  t.same(new Set(outcome.closes), new Set(['4008 too_many_connections']))
  t.equal(gateways.reduce((sum, gw) => sum + gw.app.hub.size, 0), 5)
})
