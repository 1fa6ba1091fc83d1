import t from 'tap'
import { canonicalForm, newNonce, NONCE_PATTERN, sealProblem, SIGNATURE_SKEW_MS, WebSigner } from '../../../src/wire/signing.js'

const SECRET = 'k3y-of-at-least-thirty-two-characters!'
const NOW = 1_700_000_000_000

t.test('the canonical form joins type, id as JSON, timestamp, nonce and payload JSON by newlines', async (t) => {
  t.equal(canonicalForm('subscribe', 'c1', NOW, 'n'.repeat(16), '{"a":1}'), `subscribe\n"c1"\n${NOW}\n${'n'.repeat(16)}\n{"a":1}`)
  t.equal(canonicalForm('event', undefined, NOW, 'x', '{}'), `event\n\n${NOW}\nx\n{}`)
  t.not(canonicalForm('ping', 1, NOW, 'x', '{}'), canonicalForm('ping', '1', NOW, 'x', '{}'), 'a numeric id is not its string')
})

t.test('signatures are the hex HMAC-SHA256 of the canonical form (RFC 4231 and a frame vector)', async (t) => {
  t.equal(await new WebSigner('Jefe').sign('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  const canonical = canonicalForm('subscribe', 'c1', NOW, '0123456789abcdef', '{"patterns":["orders.*"]}')
  const signer = new WebSigner(SECRET)
  const signature = '2cacdce06ae2e9a9c07debb7cd87c7636af8016721bc459e1485d028d9158e11'
  t.equal(await signer.sign(canonical), signature)
  t.equal(await signer.verify(canonical, signature), true)
  t.equal(await signer.verify(`${canonical} `, signature), false, 'a changed frame fails')
  t.equal(await new WebSigner(`${SECRET}?`).verify(canonical, signature), false, 'another secret fails')
  t.equal(await signer.verify(canonical, 'zz'), false, 'a malformed signature fails')
})

t.test('a seal is unsigned, malformed, stale or acceptable', async (t) => {
  const seal = { timestamp: NOW, nonce: '0123456789abcdef', signature: 'a'.repeat(64) }
  t.equal(sealProblem(seal, NOW), undefined)
  t.equal(sealProblem(seal, NOW + SIGNATURE_SKEW_MS), undefined, 'the window is inclusive')
  t.equal(sealProblem(seal, NOW - SIGNATURE_SKEW_MS), undefined, 'either way')
  t.equal(sealProblem(seal, NOW + SIGNATURE_SKEW_MS + 1), 'stale')
  t.equal(sealProblem(seal, NOW - SIGNATURE_SKEW_MS - 1), 'stale', 'a timestamp from the future is refused too')
  t.equal(sealProblem({}, NOW), 'unsigned')
  t.equal(sealProblem({ ...seal, timestamp: new Date(NOW).toISOString() }, NOW), 'malformed', 'milliseconds, not ISO')
  t.equal(sealProblem({ ...seal, nonce: 'short' }, NOW), 'malformed')
  t.equal(sealProblem({ ...seal, nonce: 'n'.repeat(65) }, NOW), 'malformed', 'nonces are bounded')
  t.equal(sealProblem({ ...seal, signature: 'A'.repeat(64) }, NOW), 'malformed', 'lowercase hex only')
  t.equal(sealProblem({ ...seal, signature: undefined }, NOW), 'malformed')
})

t.test('new nonces fit the pattern and differ', async (t) => {
  const a = newNonce()
  t.match(a, NONCE_PATTERN)
  t.not(a, newNonce())
})
