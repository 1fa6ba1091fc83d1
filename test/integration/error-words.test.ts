import t from 'tap'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { post, startGateway } from '../helpers/gateway.js'

const EVENT_TYPE = 'an event type: 1 to 8 dot-separated segments of lower-case letters, digits, _ and -, each starting with a letter or digit, at most 128 characters, e.g. authentication.login.success or order.created'
const ROOM_NAME = 'a room name: 1 to 64 letters, digits, _ - . or :, starting with a letter or digit, e.g. team-42 or org:acme'
const BEARER = 'token_missing: the Authorization header must be the word Bearer, a space and the token, e.g. "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.…"'
/** What a rule in words never holds: the syntax of a regular expression, or Ajv's own phrases. */
const INTERNALS = /\^|\$"|\\x|\[a-z|\{0,|must match|equal to constant|anyOf|required property/

t.test('every refusal a publisher can provoke says the rule and gives an example', async (t) => {
  const gw = await startGateway(t)
  const service = serviceToken()
  const cases: Array<[string, string, unknown, Record<string, string>, number, string, string | undefined]> = [
    ['a type with a space', '/events', { type: 'user login' }, {}, 400, `type must be ${EVENT_TYPE}`, 'type'],
    ['a type with a capital', '/events', { type: 'user.Login' }, {}, 400, `type must be ${EVENT_TYPE}`, 'type'],
    ['a bad type in a batch', '/events', { events: [{ type: 'a.b' }, { type: 'A.b' }] }, {}, 400, `events.1.type must be ${EVENT_TYPE}`, 'events.1.type'],
    ['a bad room in groups', '/events', { type: 'a.b', groups: ['team 1'] }, {}, 400, `groups.0 must be ${ROOM_NAME}`, 'groups.0'],
    ['a bad room', '/notifications', { room: '-x', title: 't', message: 'm' }, {}, 400, `room must be ${ROOM_NAME}`, 'room'],
    ['a bad idempotency key', '/events', { type: 'a.b', idempotencyKey: 'a b' }, {}, 400, 'idempotencyKey must be 1 to 128 printable ASCII characters without spaces, e.g. order-42-created', 'idempotencyKey'],
    ['a bad Idempotency-Key header', '/events', { type: 'a.b' }, { 'idempotency-key': 'a b' }, 400, 'idempotency-key must be 1 to 128 printable ASCII characters without spaces, e.g. order-42-created', 'idempotency-key'],
    ['an unknown notification level', '/notifications', { level: 'error', title: 't', message: 'm' }, {}, 400, 'level must be one of info, warning, critical', 'level'],
    ['an unknown notification type', '/notifications', { type: 'fatal', title: 't', message: 'm' }, {}, 400, 'type must be one of info, warning, error, success', 'type'],
    ['a missing type', '/events', {}, {}, 400, 'type is required', 'type'],
    ['a type that is no string', '/events', { type: 5 }, {}, 400, 'type must be a string', 'type']
  ]
  for (const [name, path, body, headers, status, message, field] of cases) {
    const answer = await post(`${gw.url}${path}`, body, service, headers)
    t.same([answer.status, answer.body.message, answer.body.field], [status, message, field], name)
    t.notMatch(String(answer.body.message), INTERNALS, `${name}: no regular expression or validator internals`)
  }

  const unauthenticated: Array<[string, string]> = [['a scheme other than Bearer', 'Token abc'], ['a bare token', service]]
  for (const [name, authorization] of unauthenticated) {
    const answer = await post(`${gw.url}/events`, { type: 'a.b' }, undefined, { authorization })
    t.same([answer.status, answer.body.message], [401, BEARER], name)
  }
})

t.test('a WebSocket request with a bad room or pattern is told the rule with an example', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice', { rooms: { 'team-42': 'write' } }))
  t.match(await alice.request('join', { room: 'team 42' }), { type: 'error', payload: { code: 'INVALID_MESSAGE', message: `payload.room must be ${ROOM_NAME}` } })
  t.match(await alice.request('publish', { room: 'team-42', type: 'Room.Note' }), { type: 'error', payload: { code: 'INVALID_MESSAGE', message: `payload.type must be ${EVENT_TYPE}` } })
  t.match(await alice.subscribe('Security.*'), {
    type: 'error',
    payload: { code: 'INVALID_PATTERN', message: '"Security.*": a pattern is dot-separated segments of lower-case letters, digits, _ and -, or *, e.g. authentication.* or order.*.created' }
  })
})
