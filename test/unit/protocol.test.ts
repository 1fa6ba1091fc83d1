import t from 'tap'
import { encodeEventFrame, encodeFault, encodeFrame, isFault, parseClientFrame } from '../../src/protocol.js'

const text = (value: string): Buffer => Buffer.from(value, 'utf8')
/** An unsigned frame's seal: its members are left for MessageSigning to judge. */
const seal = { timestamp: undefined, nonce: undefined, signature: undefined }

t.test('a valid frame', async (t) => {
  t.same(parseClientFrame(text('{"type":"subscribe","id":"r1","payload":{"eventTypes":["a.*"]}}'), false),
    { type: 'subscribe', id: 'r1', payload: { eventTypes: ['a.*'] }, seal })
  t.same(parseClientFrame(text('{"type":"ping","id":7}'), false), { type: 'ping', id: 7, payload: {}, seal }, 'numeric id, payload defaults to {}')
  t.same(parseClientFrame(text('{"type":"ping"}'), false), { type: 'ping', id: undefined, payload: {}, seal })
  t.same(parseClientFrame(text('{"type":"ping","timestamp":"t","nonce":1,"signature":null}'), false),
    { type: 'ping', id: undefined, payload: {}, seal: { timestamp: 't', nonce: 1, signature: null } }, 'the seal members as sent, unjudged')
  t.same(parseClientFrame(text(`{"type":"${'t'.repeat(64)}","id":"${'i'.repeat(128)}"}`), false),
    { type: 't'.repeat(64), id: 'i'.repeat(128), payload: {}, seal }, 'type and id at their limits')
})

t.test('every input shape ws hands over', async (t) => {
  const frame = '{"type":"ping","id":1}'
  const expected = { type: 'ping', id: 1, payload: {}, seal }
  t.same(parseClientFrame(text(frame), false), expected, 'Buffer')
  t.same(parseClientFrame([text(frame.slice(0, 5)), text(frame.slice(5))], false), expected, 'Buffer[] fragments')
  const arrayBuffer = new TextEncoder().encode(frame).buffer
  t.same(parseClientFrame(arrayBuffer, false), expected, 'ArrayBuffer')
  const euro = text('{"type":"€"}')
  t.same(parseClientFrame([euro.subarray(0, 10), euro.subarray(10)], false), { type: '€', id: undefined, payload: {}, seal }, 'a character split across fragments')
})

// [name, frame text, message, id echoed in the fault]
const faults: Array<[string, string, RegExp, string | number | undefined]> = [
  ['invalid JSON', '{"type":', /not valid JSON/, undefined],
  ['empty frame', '', /not valid JSON/, undefined],
  ['a string', '"ping"', /must be a JSON object/, undefined],
  ['a number', '42', /must be a JSON object/, undefined],
  ['null', 'null', /must be a JSON object/, undefined],
  ['an array', '[{"type":"ping"}]', /must be a JSON object/, undefined],
  ['missing type', '{"id":"r1"}', /type must be a non-empty string/, 'r1'],
  ['empty type', '{"type":"","id":2}', /type must be a non-empty string/, 2],
  ['numeric type', '{"type":1}', /type must be a non-empty string/, undefined],
  ['oversized type', `{"type":"${'t'.repeat(65)}","id":"r2"}`, /type must be a non-empty string/, 'r2'],
  ['object id', '{"type":"ping","id":{}}', /id must be/, undefined],
  ['null id', '{"type":"ping","id":null}', /id must be/, undefined],
  ['boolean id', '{"type":"ping","id":true}', /id must be/, undefined],
  ['array id', '{"type":"ping","id":["a"]}', /id must be/, undefined],
  ['huge string id', `{"type":"ping","id":"${'i'.repeat(129)}"}`, /id must be/, undefined],
  ['overflowing number id', '{"type":"ping","id":1e400}', /id must be/, undefined],
  ['"NaN" string is just a string id', '{"type":1,"id":"NaN"}', /type must be/, 'NaN'],
  ['array payload', '{"type":"subscribe","id":"r3","payload":["a.*"]}', /payload must be a JSON object/, 'r3'],
  ['string payload', '{"type":"subscribe","payload":"a.*"}', /payload must be a JSON object/, undefined],
  ['null payload', '{"type":"subscribe","payload":null}', /payload must be a JSON object/, undefined]
]

t.test('invalid frames give an INVALID_MESSAGE fault', async (t) => {
  for (const [name, frame, message, id] of faults) {
    const result = parseClientFrame(text(frame), false)
    t.ok(isFault(result), `${name} is a fault`)
    t.match(result, { code: 'INVALID_MESSAGE', message }, name)
    t.equal((result as { id?: unknown }).id, id, `${name}: id ${id === undefined ? 'not echoed' : 'echoed'}`)
  }
})

t.test('binary frames are refused without being parsed', async (t) => {
  t.match(parseClientFrame(text('{"type":"ping"}'), true), { code: 'INVALID_MESSAGE', message: /binary frames are not supported/ })
})

t.test('encodeFrame omits id when undefined', async (t) => {
  t.equal(encodeFrame('pong', undefined, { a: 1 }), '{"type":"pong","payload":{"a":1}}')
  t.equal(encodeFrame('pong', 'r1', { a: 1 }), '{"type":"pong","id":"r1","payload":{"a":1}}')
  t.equal(encodeFrame('pong', 0, {}), '{"type":"pong","id":0,"payload":{}}', 'id 0 is kept')
  t.equal(encodeFault({ code: 'INVALID_PATTERN', message: 'bad', id: 'r9' }), '{"type":"error","id":"r9","payload":{"code":"INVALID_PATTERN","message":"bad"}}')
  t.equal(encodeFault({ code: 'FORBIDDEN', message: 'no' }), '{"type":"error","payload":{"code":"FORBIDDEN","message":"no"}}')
})

t.test('encodeEventFrame wraps the event JSON as it is', async (t) => {
  const json = JSON.stringify({ id: 'e1', type: 'a.b', data: { text: 'é "quoted"' }, timestamp: 'now' })
  const frame = encodeEventFrame(json)
  t.ok(Buffer.isBuffer(frame))
  t.equal(frame.toString('utf8'), `{"type":"event","payload":${json}}`)
  t.same(JSON.parse(frame.toString('utf8')), { type: 'event', payload: JSON.parse(json) })
})

t.test('isFault', async (t) => {
  t.ok(isFault({ code: 'X', message: 'y' }))
  t.notOk(isFault({ type: 'pong', payload: {} }))
  t.notOk(isFault(null))
  t.notOk(isFault('error'))
})
