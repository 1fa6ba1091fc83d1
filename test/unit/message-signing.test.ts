import t, { type Test } from 'tap'
import { MessageSigning } from '../../src/message-signing.js'
import { encodeEventFrame, encodeFrame, parseClientFrame } from '../../src/protocol.js'
import { MemoryStore } from '../../src/store/memory.js'
import { canonicalForm, SIGNATURE_SKEW_MS, WebSigner } from '../../src/wire/signing.js'

const SECRET = 'k3y-of-at-least-thirty-two-characters!'
const NOW = 1_700_000_000_000

function signing (t: Test, now = NOW): MessageSigning {
  const store = new MemoryStore(() => now)
  t.teardown(async () => { await store.close() })
  return new MessageSigning(SECRET, store, () => now)
}

/** A client frame signed with WebCrypto, as the SDK signs it. */
async function clientFrame (fields: { type?: string, id?: string | number, payload?: Record<string, unknown>, timestamp?: number, nonce?: string }, secret = SECRET): Promise<Record<string, unknown>> {
  const { type = 'subscribe', id = 'c1', payload = { patterns: ['orders.*'] }, timestamp = NOW, nonce = '0123456789abcdef' } = fields
  const signature = await new WebSigner(secret).sign(canonicalForm(type, id, timestamp, nonce, JSON.stringify(payload)))
  return { type, id, payload, timestamp, nonce, signature }
}

function parse (frame: Record<string, unknown>): ReturnType<typeof parseClientFrame> {
  return parseClientFrame(Buffer.from(JSON.stringify(frame)), false)
}

t.test('a frame signed as the SDK signs it passes once; its nonce again is REPLAYED', async (t) => {
  const s = signing(t)
  const frame = parse(await clientFrame({}))
  if ('code' in frame) throw new Error('parsed')
  t.equal(await s.check(frame), undefined)
  t.match(await s.check(frame), { code: 'REPLAYED', id: 'c1' })
  t.equal(s.refusals.replayed, 1)
})

t.test('unsigned, malformed, tampered, foreign-keyed and stale frames are refused and counted', async (t) => {
  const s = signing(t)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['unsigned', { type: 'ping', id: 'c1' }, 'INVALID_SIGNATURE'],
    ['ISO timestamp', { ...await clientFrame({}), timestamp: new Date(NOW).toISOString() }, 'INVALID_SIGNATURE'],
    ['tampered payload', { ...await clientFrame({}), payload: { patterns: ['#'] } }, 'INVALID_SIGNATURE'],
    ['id changed from number to string', { ...await clientFrame({ id: 1 }), id: '1' }, 'INVALID_SIGNATURE'],
    ['another secret', await clientFrame({}, `${SECRET}!`), 'INVALID_SIGNATURE'],
    ['too old', await clientFrame({ timestamp: NOW - SIGNATURE_SKEW_MS - 1, nonce: 'old-nonce-0000000' }), 'REPLAYED'],
    ['too far ahead', await clientFrame({ timestamp: NOW + SIGNATURE_SKEW_MS + 1, nonce: 'new-nonce-0000000' }), 'REPLAYED']
  ]
  for (const [name, raw, code] of cases) {
    const frame = parse(raw)
    if ('code' in frame) throw new Error(name)
    t.match(await s.check(frame), { code }, name)
  }
  t.same(s.refusals, { unsigned: 1, malformed: 1, bad_signature: 3, stale: 2, replayed: 0 })
  const good = parse(await clientFrame({}))
  if ('code' in good) throw new Error('parsed')
  t.equal(await s.check(good), undefined, 'refused frames did not claim the nonce')
})

t.test('a frame without payload is signed over {}', async (t) => {
  const s = signing(t)
  const { payload, ...raw } = await clientFrame({ type: 'ping', payload: {} })
  t.same(payload, {})
  const frame = parse(raw)
  if ('code' in frame) throw new Error('parsed')
  t.equal(await s.check(frame), undefined)
})

t.test('sealed server frames verify with WebCrypto over the payload as parsed and written again', async (t) => {
  const s = signing(t)
  const web = new WebSigner(SECRET)
  for (const text of [
    encodeFrame('subscribed', 7, { patterns: ['a.*'] }, s.seal),
    encodeFrame('connected', undefined, { connectionId: 'x' }, s.seal),
    // Event JSON is JSON.stringify's (src/events.ts eventJson), so parsing and writing it again gives it back.
    encodeEventFrame(JSON.stringify({ id: '1-0', type: 'orders.created', data: { é: '\u2028', 2: 'first' } }), s.seal).toString()
  ]) {
    const frame = JSON.parse(text) as { type: string, id?: number, payload: unknown, timestamp: number, nonce: string, signature: string }
    t.equal(frame.timestamp, NOW)
    t.equal(await web.verify(canonicalForm(frame.type, frame.id, frame.timestamp, frame.nonce, JSON.stringify(frame.payload)), frame.signature), true, frame.type)
  }
  const a = JSON.parse(encodeFrame('pong', undefined, {}, s.seal)) as { nonce: string }
  const b = JSON.parse(encodeFrame('pong', undefined, {}, s.seal)) as { nonce: string }
  t.not(a.nonce, b.nonce, 'every frame has a nonce of its own')
  t.equal(encodeFrame('pong', 'c1', {}), '{"type":"pong","id":"c1","payload":{}}', 'unsealed frames are unchanged')
})
