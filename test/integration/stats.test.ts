import t from 'tap'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connect, connectAs } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'

const moderatorToken = (sub = 'mod-1'): string => token({ sub, roles: ['moderator'] })

t.test('/ws/stats answers {server, global, notifications}, and instance as before', async (t) => {
  const gw = await startGateway(t, { SERVER_ID: 'solo-1' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('a.*')
  const stats = await get(`${gw.url}/ws/stats`, adminToken())
  t.match(stats, {
    status: 200,
    body: {
      server: { serverId: 'solo-1', connections: 1, users: 1, subscriptions: 1 },
      global: { totalServers: 1, totalConnections: 1, servers: [{ serverId: 'solo-1' }] },
      notifications: { queueLength: 0 }
    }
  })
  t.same(Object.keys(stats.body), ['server', 'global', 'notifications', 'instance'])
  t.same(stats.body.instance, stats.body.server, 'instance is server under its earlier name')
})

t.test('notifications.queueLength counts the live events held back behind a resume', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('a.*')
  // The state a resume puts a connection in while it replays the history: live events wait.
  const [connection] = [...gw.app.hub.each()]
  if (connection === undefined) throw new Error('no connection')
  connection.held = []
  for (const type of ['a.one', 'a.two']) t.equal((await post(`${gw.url}/events`, { type, userId: 'alice' }, serviceToken())).status, 202)
  t.match(await get(`${gw.url}/ws/stats`, adminToken()), { status: 200, body: { notifications: { queueLength: 2 } } })
  connection.held = undefined
  t.match(await get(`${gw.url}/ws/stats`, adminToken()), { body: { notifications: { queueLength: 0 } } })
})

t.test('a moderator reads /ws/stats and nothing more of an admin\'s', async (t) => {
  const gw = await startGateway(t)
  t.match(await get(`${gw.url}/ws/stats`, moderatorToken()), { status: 200, body: { server: { connections: 0 }, notifications: { queueLength: 0 } } })
  t.match(await get(`${gw.url}/ws/stats`, userToken('alice')), { status: 403, body: { message: 'stats need role admin or moderator' } })
  t.match(await get(`${gw.url}/ws/stats`, serviceToken()), { status: 403 })
  t.match(await post(`${gw.url}/events`, { type: 'a.x' }, moderatorToken()), { status: 403 }, 'no publishing')
  t.match(await post(`${gw.url}/sessions/s-1/revoke`, {}, moderatorToken()), { status: 403 }, 'no revoking')
  const admin = await connect(t, `${gw.wsUrl}/ws/admin`, { headers: { authorization: `Bearer ${moderatorToken()}` } })
  t.same(await admin.closed, { code: 4003, reason: 'admin_required' }, 'no admin stream')
})
