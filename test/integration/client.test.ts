import t from 'tap'
import { until } from '../../harness/ports.js'
import { token, userToken } from '../../harness/tokens.js'
import { type ConnectedInfo, createClient, type GatewayEvent, type ReconnectInfo, type ResumedInfo } from '../../src/client/index.js'
import { publish, record, WebSocket } from '../helpers/client-support.js'
import { LENIENT_LIMITS } from '../helpers/cluster.js'
import { startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const FAST = { baseMs: 20, capMs: 200 }

t.test('subscribe resolves on the gateway\'s reply and routes events to matching handlers, in order', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const orders: GatewayEvent[] = []
  const logins: Array<GatewayEvent<{ ip: string }>> = []
  const subscription = await client.subscribe('orders.*', (e) => { orders.push(e) })
  await client.subscribe<{ ip: string }>('*.login.success', (e) => { logins.push(e) })
  t.equal(client.state, 'open')
  t.equal(subscription.pattern, 'orders.*')

  const ids = await publish(gw.url, [
    { type: 'orders.created', userId: 'alice' },
    { type: 'authentication.login.success', userId: 'alice', data: { ip: '203.0.113.7' } },
    { type: 'orders.created', userId: 'bob' },
    { type: 'orders.shipped' }
  ])
  await until(() => seen.events.length === 3, 5000, 'three events')
  t.same(seen.events.map((e) => e.id), [ids[0], ids[1], ids[3]], 'alice\'s events and the broadcast, not bob\'s, in order')
  t.same(orders.map((e) => e.type), ['orders.created', 'orders.shipped'])
  t.equal(logins[0]?.data.ip, '203.0.113.7', 'typed data')
  t.equal(client.lastEventId, ids[3])

  await subscription.unsubscribe()
  const [dropped, kept] = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }, { type: 'authentication.login.success', userId: 'alice', data: { ip: '1' } }])
  await until(() => logins.length === 2, 5000, 'the event after the unsubscribe')
  t.equal(logins[1]?.id, kept)
  t.notOk(seen.events.some((e) => e.id === dropped), 'nothing of the unsubscribed pattern arrives')
  t.equal(orders.length, 2, 'the removed handler is not called')
  t.same(seen.errors, [])
  t.same(seen.states, ['open'])
})

t.test('runs on Node\'s own WebSocket when none is given', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  await client.subscribe('orders.*', () => {})
  const [id] = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }])
  await until(() => seen.events.length === 1, 5000, 'the event')
  t.equal(seen.events[0]?.id, id)
  t.same(seen.errors, [])
})

t.test('subscribe rejects with the gateway\'s code; the connection carries on', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const refused = await client.subscribe('Not A Pattern', () => {}).then(() => undefined, (err: unknown) => err as Error)
  t.match(refused, { name: 'EventgateError', code: 'INVALID_PATTERN' })
  t.equal(refused?.message.split('"Not A Pattern"').length, 2, `the pattern named once: ${refused?.message ?? ''}`)
  await t.rejects(client.subscribe('admin.*', () => {}), { code: 'FORBIDDEN' })
  const events: GatewayEvent[] = []
  await client.subscribe('*', (e) => { events.push(e) })
  const [id] = await publish(gw.url, [{ type: 'system.notice' }])
  await until(() => events.length === 1, 5000, 'the broadcast')
  t.equal(events[0]?.id, id)
})

t.test('token refresh: token_expiring → getToken → reauthenticate on the same socket, events keep flowing', async (t) => {
  const gw = await startGateway(t, { ...LENIENT_LIMITS, TOKEN_EXPIRY_WARNING: '2000' })
  const lifeSeconds = 3
  let calls = 0
  const getToken = async (): Promise<string> => {
    calls++
    return userToken('alice', { exp: Math.floor(Date.now() / 1000) + lifeSeconds })
  }
  const client = createClient({ url: gw.url, getToken, WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const events: GatewayEvent[] = []
  await client.subscribe('orders.*', (e) => { events.push(e) })
  const [connection] = [...gw.app.hub.each()]
  const firstDeadline = connection?.identity.expiresAt ?? 0
  t.ok(firstDeadline > Date.now(), 'the socket starts with the short token\'s deadline')

  // Three refreshes carry the socket well past the first token's exp.
  for (let round = 1; round <= 3; round++) {
    await until(() => calls > round, 5000, `refresh ${round}`)
    const [id] = await publish(gw.url, [{ type: 'orders.created', userId: 'alice', data: { round } }])
    await until(() => events.some((e) => e.id === id), 5000, `the event after refresh ${round}`)
  }
  await until(() => Date.now() > firstDeadline + 500, 5000, 'the first token to be long expired')
  const [last] = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }])
  await until(() => events.some((e) => e.id === last), 5000, 'an event after the first token expired')

  const now = [...gw.app.hub.each()]
  t.equal(now.length, 1, 'one socket on the gateway')
  t.equal(now[0], connection, 'the same socket as at the start')
  t.ok((now[0]?.identity.expiresAt ?? 0) > firstDeadline, 'its deadline moved with each token')
  t.same(seen.states, ['open'], 'never reconnected')
  t.same(seen.errors, [])
})

t.test('4003 on the admin stream: one token, no retry, closed with the error', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  let calls = 0
  const client = createClient({ url: gw.url, stream: 'admin', getToken: () => { calls++; return userToken('alice') }, WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const pending = client.subscribe('*', () => {})
  await t.rejects(within(pending, 5000, 'the subscribe to settle'), { code: 'CLIENT_CLOSED' }, 'a pending subscribe rejects')
  t.equal(client.state, 'closed')
  t.same(seen.states, ['closed'])
  t.equal(calls, 1, 'getToken was called once')
  t.equal(seen.errors.length, 1)
  t.match(seen.errors[0], { code: 'CONNECTION_CLOSED', closeCode: 4003, reason: 'admin_required' })
  t.equal(gw.app.hub.size, 0)
  await t.rejects(client.subscribe('*', () => {}), { code: 'CLIENT_CLOSED' }, 'a closed client takes no subscription')
})

t.test('an admin on /ws/admin sees every user\'s events', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = createClient({ url: gw.url, stream: 'admin', getToken: () => token({ sub: 'root', roles: ['admin'] }), WebSocket })
  t.teardown(async () => { await client.close() })
  const events: GatewayEvent[] = []
  await client.subscribe('admin.*', (e) => { events.push(e) })
  const [id] = await publish(gw.url, [{ type: 'admin.user.created', userId: 'bob' }])
  await until(() => events.length === 1, 5000, 'the admin event')
  t.equal(events[0]?.id, id)
})

t.test('a refused token: getToken is asked again and the client connects with the next one', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  for (const auth of ['ticket', 'query'] as const) {
    let calls = 0
    const getToken = (): string => ++calls === 1 ? userToken('alice', { exp: Math.floor(Date.now() / 1000) - 10 }) : userToken('alice')
    const client = createClient({ url: gw.url, auth, getToken, WebSocket, reconnect: FAST })
    t.teardown(async () => { await client.close() })
    const seen = record(client)
    await client.subscribe('orders.*', () => {})
    t.equal(client.state, 'open', auth)
    t.equal(calls, 2, `${auth}: one refused token, one good`)
    const expected = auth === 'ticket'
      ? { code: 'TICKET_FAILED', status: 401, reason: 'token_expired' }
      : { code: 'CONNECTION_CLOSED', closeCode: 4001, reason: 'token_expired' }
    t.match(seen.errors, [expected], `${auth}: the refusal is reported`)
    await client.close()
  }
})

t.test('a shutdown (1001) is passed along with the reconnecting state', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), WebSocket, reconnect: { baseMs: 50, capMs: 200 } })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const causes: Array<{ code: number, reason: string }> = []
  client.on('state', (state, cause) => { if (state === 'reconnecting' && cause !== undefined) causes.push(cause) })
  await client.subscribe('orders.*', () => {})
  await gw.close()
  await until(() => causes.length === 1, 5000, 'the 1001 close')
  t.same(causes, [{ code: 1001, reason: 'server_shutting_down' }])
  t.same(seen.errors, [], 'a routine close is not an error')
})

t.test('close() ends everything at once and twice is fine', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  const client = createClient({ url: gw.url, getToken: () => userToken('alice'), WebSocket })
  const seen = record(client)
  await client.subscribe('orders.*', () => {})
  await client.close()
  await client.close()
  t.same(seen.states, ['open', 'closed'])
  await until(() => gw.app.hub.size === 0, 5000, 'the gateway to see the socket close')
  t.same(seen.errors, [])
})

t.test('a client that has received no event yet gets what was published while its socket was down', async (t) => {
  const gw = await startGateway(t, LENIENT_LIMITS)
  let open: () => void = () => {}
  let gate: Promise<void> = Promise.resolve()
  // Holds the reconnect until the test has published: getToken is called for every connect.
  const getToken = async (): Promise<string> => {
    await gate
    return userToken('alice')
  }
  const client = createClient({ url: gw.url, getToken, WebSocket, reconnect: FAST })
  t.teardown(async () => { await client.close() })
  const seen = record(client)
  const reconnects: ReconnectInfo[] = []
  client.on('reconnect', (info) => { reconnects.push(info) })
  const connected: ConnectedInfo[] = []
  client.on('connected', (info) => { connected.push(info) })
  const resumed: ResumedInfo[] = []
  client.on('resumed', (info) => { resumed.push(info) })
  await client.subscribe('orders.*', () => {})
  gate = new Promise((resolve) => { open = resolve })
  for (const connection of gw.app.hub.each()) connection.socket.terminate()
  await until(() => seen.states.includes('reconnecting'), 5000, 'the client to notice')
  const missed = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }, { type: 'orders.shipped', userId: 'alice' }])
  open()
  await until(() => seen.events.length === 2, 5000, 'the events published while it was away')
  t.same(seen.events.map((e) => e.id), missed, 'both, once, in order')
  t.match(connected, [{ userId: 'alice', serverId: gw.app.config.serverId, expiresAt: String }, { userId: 'alice', serverId: gw.app.config.serverId }], 'each accepted socket announced, with its instance')
  t.match(resumed, [{ replayed: 2, truncated: false, since: String }], 'the resume says how many it replayed')
  t.match(reconnects, [{ attempt: 1, cause: { code: 1006 } }], 'one reconnect announced, with its cause')
  t.ok((reconnects[0]?.delayMs ?? -1) >= 0 && (reconnects[0]?.delayMs ?? Infinity) <= FAST.capMs, 'and its delay, within the cap')
  const [live] = await publish(gw.url, [{ type: 'orders.created', userId: 'alice' }])
  await until(() => seen.events.length === 3, 5000, 'the next live event')
  t.equal(seen.events[2]?.id, live)
})
