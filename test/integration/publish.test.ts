import t from 'tap'
import { adminToken, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { get, post, startGateway } from '../helpers/gateway.js'

t.test('who may publish: 401 without a token, 403 without the right, 202 with it', async (t) => {
  const gw = await startGateway(t)
  const body = { type: 'security.alert' }
  t.match(await post(`${gw.url}/events`, body), { status: 401, body: { statusCode: 401, code: 'EVENTGATE_UNAUTHORIZED', message: 'token_missing' } })
  t.match(await post(`${gw.url}/events`, body, 'garbage'), { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED', message: 'token_invalid' } })
  t.match(await post(`${gw.url}/events`, body, userToken('alice')), { status: 403, body: { code: 'EVENTGATE_FORBIDDEN' } })
  const publishers: Array<[string, string]> = [['service', serviceToken()], ['admin', adminToken()], ['permission', token({ sub: 'risk', permissions: ['events:publish'] })]]
  for (const [name, jwt] of publishers) {
    const res = await post(`${gw.url}/events`, body, jwt)
    t.equal(res.status, 202, name)
    t.match(res.body, { ids: [/^\d+-\d+$/] })
  }
})

t.test('a batch is published in order and answered with its ids', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('session.*')
  const res = await post(`${gw.url}/events`, { events: [1, 2, 3].map((n) => ({ type: 'session.refreshed', userId: 'alice', data: { n } })) }, serviceToken())
  t.equal(res.status, 202)
  const received = await alice.events(3)
  t.same(received.map((e) => e.data.n), [1, 2, 3])
  t.same(res.body.ids, received.map((e) => e.id))
})

t.test('invalid bodies get 400 naming the field', async (t) => {
  const gw = await startGateway(t)
  const jwt = serviceToken()
  const cases: Array<[unknown, string]> = [
    [{}, 'type'],
    [{ type: 'Not A Type' }, 'type'],
    [{ type: 'a'.repeat(200) }, 'type'],
    [{ type: 'a.b.c.d.e.f.g.h.i' }, 'type'],
    [{ type: 'security.alert', userId: 42 }, 'userId'],
    [{ type: 'security.alert', userId: '' }, 'userId'],
    [{ type: 'security.alert', userID: 'bob' }, 'userID'],
    [{ type: 'security.alert', data: 'text' }, 'data'],
    [{ type: 'security.alert', data: [1] }, 'data'],
    [{ events: [] }, 'events'],
    [{ events: [{ type: 'ok.one' }, { type: 'BAD' }] }, 'events.1.type'],
    [{ events: Array.from({ length: 101 }, () => ({ type: 'a.b' })) }, 'events'],
    [{ events: [{ type: 'a.b' }], extra: true }, 'extra'],
    [[{ type: 'a.b' }], ''],
    ['"just a string"', '']
  ]
  for (const [body, field] of cases) {
    const res = await post(`${gw.url}/events`, body, jwt)
    t.equal(res.status, 400, JSON.stringify(body).slice(0, 60))
    t.match(res.body, { statusCode: 400, code: 'EVENTGATE_INVALID_BODY', message: String })
    t.equal(res.body.field ?? '', field, `field for ${JSON.stringify(body).slice(0, 60)}`)
  }
  const broken = await post(`${gw.url}/events`, '{"type":', jwt)
  t.match(broken, { status: 400, body: { code: 'EVENTGATE_INVALID_BODY' } }, 'malformed JSON')
  const huge = await post(`${gw.url}/events`, { type: 'a.b', data: { blob: 'x'.repeat(1024 * 1024) } }, jwt)
  t.match(huge, { status: 413, body: { code: 'EVENTGATE_PAYLOAD_TOO_LARGE' } })
  t.match(await get(`${gw.url}/nowhere`), { status: 404, body: { code: 'EVENTGATE_NOT_FOUND' } })
})

t.test('notifications become notification.user or notification.broadcast events', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  await alice.subscribe('notification.*')
  await bob.subscribe('notification.*')
  const personal = await post(`${gw.url}/notifications`, { userId: 'alice', level: 'warning', title: 'New sign-in', message: 'From Berlin', data: { ip: '1.2.3.4' } }, serviceToken())
  t.equal(personal.status, 202)
  const everyone = await post(`${gw.url}/notifications`, { level: 'info', title: 'Maintenance', message: 'Tonight' }, serviceToken())
  t.equal(everyone.status, 202)
  const [first, second] = await alice.events(2)
  t.match(first, { id: (personal.body.ids as string[])[0], type: 'notification.user', userId: 'alice', data: { level: 'warning', title: 'New sign-in', message: 'From Berlin', data: { ip: '1.2.3.4' } } })
  t.match(second, { type: 'notification.broadcast', data: { level: 'info', title: 'Maintenance' } })
  t.same((await bob.events(1)).map((e) => e.type), ['notification.broadcast'], 'bob gets only the broadcast')
  t.match(await post(`${gw.url}/notifications`, { level: 'loud', title: 't', message: 'm' }, serviceToken()), { status: 400, body: { field: 'level' } })
  t.match(await post(`${gw.url}/notifications`, { level: 'info', title: 't' }, serviceToken()), { status: 400, body: { field: 'message' } })
  t.match(await post(`${gw.url}/notifications`, { level: 'info', title: 't', message: 'm' }, userToken('alice')), { status: 403 })
})

t.test('a notification\'s type (info, warning, error, success) stands beside its level; the event carries both', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('notification.*')
  const bodies = [
    { type: 'success', title: 'Saved', message: 'All done' },
    { type: 'error', title: 'Failed', message: 'Try again' },
    { level: 'critical', title: 'Breach', message: 'Rotate keys' },
    { level: 'info', type: 'success', title: 'Both', message: 'agree' }
  ]
  for (const body of bodies) t.equal((await post(`${gw.url}/notifications`, { userId: 'alice', ...body }, serviceToken())).status, 202, JSON.stringify(body))
  const events = await alice.events(4)
  t.same(events.map((e) => [e.data?.level, e.data?.type]), [['info', 'success'], ['critical', 'error'], ['critical', 'error'], ['info', 'success']])
  t.same(Object.keys(events[0]?.data ?? {}), ['level', 'type', 'title', 'message'])

  const refused = async (body: Record<string, unknown>) => await post(`${gw.url}/notifications`, { title: 't', message: 'm', ...body }, serviceToken())
  t.match(await refused({ level: 'info', type: 'error' }), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'type', message: /level "info" contradicts type "error"/ } })
  t.match(await refused({}), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'level', message: 'level or type is required' } })
  t.match(await refused({ type: 'critical' }), { status: 400, body: { field: 'type' } }, 'critical is a level, not a type')
})

t.test('health on the embedded default and stats for admins', async (t) => {
  const gw = await startGateway(t, { SERVER_ID: 'solo-1' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('a.*', 'b.*')
  await post(`${gw.url}/events`, { type: 'a.x', userId: 'alice' }, serviceToken())
  await alice.events(1)
  t.match(await get(`${gw.url}/ws/health`), { status: 200, body: { healthy: true, serverId: 'solo-1', connections: 1, bus: 'memory', redisConnected: null } })
  const stats = await get(`${gw.url}/ws/stats`, adminToken())
  t.match(stats, {
    status: 200,
    body: {
      instance: { serverId: 'solo-1', connections: 1, users: 1, subscriptions: 2, eventsPublished: 1, deliveries: 1 },
      global: { totalServers: 1, totalConnections: 1 }
    }
  })
  const received = (stats.body.instance as { eventsReceived: number }).eventsReceived
  t.ok(received >= 1, 'the published event and the gateway\'s own security events are received')
  t.match(await get(`${gw.url}/ws/stats`, userToken('alice')), { status: 403 })
  t.match(await get(`${gw.url}/ws/stats`), { status: 401 })
})
