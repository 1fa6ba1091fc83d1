import t from 'tap'
import { createDraft, eventJson, isAdminOnly, isGatewayEvent, namespaceOf } from '../../src/events.js'
import { isEventType } from '../../src/wire/topics.js'

t.test('isEventType', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['a', true],
    ['authentication.login.success', true],
    ['user_1.log-in.2fa', true],
    ['0.1', true],
    ['a.b.c.d.e.f.g.h', true],
    ['x'.repeat(128), true],
    ['', false],
    ['x'.repeat(129), false],
    ['a.b.c.d.e.f.g.h.i', false],
    ['Authentication.login', false],
    ['a..b', false],
    ['.a', false],
    ['a.', false],
    ['_a', false],
    ['a.-b', false],
    ['a b', false],
    ['a.*', false],
    ['*', false],
    ['a/b', false],
    ['a.b\n', false]
  ]
  for (const [type, expected] of cases) t.equal(isEventType(type), expected, `${JSON.stringify(type.slice(0, 30))} ${expected ? 'is' : 'is not'} an event type`)
})

t.test('isAdminOnly looks at the first segment only', async (t) => {
  t.equal(namespaceOf('admin.user.banned'), 'admin')
  t.equal(namespaceOf('admin'), 'admin')
  t.ok(isAdminOnly('admin'))
  t.ok(isAdminOnly('admin.user.banned'))
  t.ok(isAdminOnly('admin.*'), 'a pattern into the admin namespace is admin-only too')
  t.notOk(isAdminOnly('administrator.login'))
  t.notOk(isAdminOnly('user.admin'))
  t.notOk(isAdminOnly('*'))
  t.notOk(isAdminOnly('authentication.login'))
})

t.test('createDraft copies what the publisher gave and stamps the time; the bus assigns the id', async (t) => {
  const now = new Date('2024-05-06T07:08:09.010Z')
  const draft = createDraft({ type: 'a.b', userId: 'u1', sessionId: 's1', data: { k: 1 }, idempotencyKey: 'retry-1' }, now)
  t.same(draft, { type: 'a.b', userId: 'u1', sessionId: 's1', data: { k: 1 }, timestamp: '2024-05-06T07:08:09.010Z' })
  t.notOk('id' in draft, 'no id before the bus gives one')
  t.notOk('idempotencyKey' in draft, 'the idempotency key is the publish\'s, not the event\'s')
  t.same(createDraft({ type: 'x.y', audience: 'admin', control: 'revocation' }, now), { type: 'x.y', data: {}, timestamp: '2024-05-06T07:08:09.010Z', audience: 'admin', control: 'revocation' })
})

t.test('createDraft omits absent userId and sessionId and defaults data', async (t) => {
  const draft = createDraft({ type: 'a.b' })
  t.same(Object.keys(draft).sort(), ['data', 'timestamp', 'type'])
  t.same(draft.data, {})
  t.ok(Math.abs(Date.parse(draft.timestamp) - Date.now()) < 60_000, 'timestamp defaults to now')
})

t.test('eventJson puts the id first and keeps the draft\'s JSON as it is', async (t) => {
  const draft = createDraft({ type: 'a.b', userId: 'u1', data: { text: 'caf\u00e9 "quoted" \u2028', nested: { list: [1, null] } } })
  const json = eventJson('1732380000000-7', JSON.stringify(draft))
  t.ok(json.startsWith('{"id":"1732380000000-7","type":"a.b",'))
  t.same(JSON.parse(json), { id: '1732380000000-7', ...draft })
  t.equal(json, JSON.stringify({ id: '1732380000000-7', ...draft }), 'the same text JSON.stringify gives for the whole event')
  t.ok(isGatewayEvent(JSON.parse(json)))
})

t.test('isGatewayEvent rejects malformed shapes', async (t) => {
  const good = { id: 'e1', type: 'a.b', data: {}, timestamp: '2024-01-01T00:00:00.000Z' }
  t.ok(isGatewayEvent(good))
  t.ok(isGatewayEvent({ ...good, userId: 'u', sessionId: 's' }))
  const bad: Array<[string, unknown]> = [
    ['null', null],
    ['a string', 'event'],
    ['a number', 1],
    ['no id', { ...good, id: undefined }],
    ['numeric id', { ...good, id: 1 }],
    ['no type', { ...good, type: undefined }],
    ['invalid type', { ...good, type: 'Not A Type' }],
    ['pattern as type', { ...good, type: 'a.*' }],
    ['no timestamp', { ...good, timestamp: undefined }],
    ['no data', { ...good, data: undefined }],
    ['null data', { ...good, data: null }],
    ['string data', { ...good, data: 'x' }],
    ['numeric userId', { ...good, userId: 1 }],
    ['null userId', { ...good, userId: null }],
    ['object sessionId', { ...good, sessionId: {} }]
  ]
  for (const [name, value] of bad) t.notOk(isGatewayEvent(value), `rejects ${name}`)
})

t.test('isGatewayEvent holds bus events to the API\'s bounds', async (t) => {
  const base = { id: 'e1', type: 'a.b', data: {}, timestamp: new Date().toISOString() }
  t.ok(isGatewayEvent(base))
  t.notOk(isGatewayEvent({ ...base, data: [] }), 'data must be an object, not an array')
  t.notOk(isGatewayEvent({ ...base, userId: '' }), 'empty userId')
  t.notOk(isGatewayEvent({ ...base, sessionId: 'x'.repeat(257) }), 'sessionId over 256 characters')
})
