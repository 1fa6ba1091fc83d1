import t from 'tap'
import { CLIENT_FRAME_TYPES, type FrameType, message, SERVER_FRAME_TYPES } from '../../../src/asyncapi/messages.js'

interface Frame { properties: Record<string, { const?: string }>, required: string[] }

t.test('a message is the whole frame: its type, an id where it answers, the signing members', async (t) => {
  const subscribe = message('subscribe', true) as { payload: Frame, correlationId?: unknown }
  t.equal(subscribe.payload.properties.type?.const, 'subscribe')
  t.same(subscribe.payload.required, ['type'])
  t.ok(subscribe.payload.properties.id, 'a request carries an id')
  t.ok(subscribe.correlationId, 'and is correlated by it')
  t.ok(['timestamp', 'nonce', 'signature'].every((member) => subscribe.payload.properties[member]), 'the members of a signed frame')
  const event = message('event', false) as { payload: Frame, correlationId?: unknown }
  t.notOk(event.payload.properties.id, 'a push answers no request')
  t.notOk(event.correlationId)
})

t.test('a frame type not described yet still gets its message, by name', async (t) => {
  const added = message('not_described' as FrameType, true) as { name: string, summary: string, payload: Frame }
  t.equal(added.name, 'not_described')
  t.match(added.summary, /not_described/)
  t.same(added.payload.properties.payload, { type: 'object' })
})

t.test('client and server frame lists each name a type once, error once', async (t) => {
  t.equal(new Set(CLIENT_FRAME_TYPES).size, CLIENT_FRAME_TYPES.length)
  t.equal(SERVER_FRAME_TYPES.filter((type) => type === 'error').length, 1)
  t.ok(CLIENT_FRAME_TYPES.includes('authenticate'), 'authenticate is a client frame, though not a request of an open socket')
})
