import { createVerifier } from 'fast-jwt'
import pino from 'pino'
import t, { type Test } from 'tap'
import { TEST_SECRET, token, userToken } from '../../harness/tokens.js'
import { bearerToken, type CredentialCarrier, credentialFrom, Credentials, httpRefusal, socketRefusal } from '../../src/credentials.js'
import { CloseCode } from '../../src/errors.js'
import type { Identity } from '../../src/identity.js'
import { Revocations } from '../../src/revocations.js'
import { MemoryStore } from '../../src/store/memory.js'
import { Tickets } from '../../src/tickets.js'

const carrier = (fields: Partial<CredentialCarrier>): CredentialCarrier => ({ authorization: undefined, cookie: undefined, url: '/ws/events', ...fields })

t.test('the header comes first, then the cookie and the ticket on upgrades, then the query token', async (t) => {
  const all = carrier({ authorization: 'Bearer h', cookie: 'access_token=c', url: '/ws/events?token=q&ticket=k' })
  t.same(credentialFrom(all, true), { token: 'h', source: 'header' })
  t.same(credentialFrom({ ...all, authorization: undefined }, true), { token: 'c', source: 'cookie' })
  t.same(credentialFrom({ ...all, authorization: undefined, cookie: undefined }, true), { token: 'k', source: 'ticket' })
  t.same(credentialFrom(carrier({ url: '/ws/events?token=q' }), true), { token: 'q', source: 'query' })
  t.equal(credentialFrom(carrier({}), true), undefined)
})

t.test('the accessToken cookie counts as access_token does, which wins when both are sent', async (t) => {
  t.same(credentialFrom(carrier({ cookie: 'theme=dark; accessToken=c' }), true), { token: 'c', source: 'cookie' })
  t.same(credentialFrom(carrier({ cookie: 'accessToken=alias; access_token=c' }), true), { token: 'c', source: 'cookie' })
  t.same(credentialFrom(carrier({ cookie: 'access_token=; accessToken=alias' }), true), { token: 'alias', source: 'cookie' }, 'an empty access_token does not count')
  t.same(credentialFrom(carrier({ authorization: 'Bearer h', cookie: 'accessToken=c' }), true), { token: 'h', source: 'header' })
  t.same(credentialFrom(carrier({ cookie: 'accessToken=c', url: '/ws/events?ticket=k' }), true), { token: 'c', source: 'cookie' })
  t.equal(credentialFrom(carrier({ cookie: 'accesstoken=c' }), true), undefined, 'cookie names are case-sensitive')
  t.equal(credentialFrom(carrier({ cookie: 'accessToken=c' }), false), undefined, 'never on HTTP requests')
})

t.test('HTTP requests take neither the cookie nor a ticket', async (t) => {
  t.equal(credentialFrom(carrier({ cookie: 'access_token=c' }), false), undefined, 'a browser sends the cookie to any POST: forgeable')
  t.equal(credentialFrom(carrier({ url: '/events?ticket=k' }), false), undefined)
  t.same(credentialFrom(carrier({ cookie: 'access_token=c', url: '/events?token=q' }), false), { token: 'q', source: 'query' })
  t.same(credentialFrom(carrier({ authorization: 'bearer  h ' }), false), { token: 'h', source: 'header' })
})

t.test('nothing after # is a credential', async (t) => {
  for (const url of ['/ws/events#token=j', '/ws/events#?token=j', '/ws/events#x?token=j', '/ws/events#ticket=k', '/ws/events?#token=j']) {
    t.equal(credentialFrom(carrier({ url }), true), undefined, url)
  }
  t.same(credentialFrom(carrier({ url: '/ws/events?token=j#token=other' }), true), { token: 'j', source: 'query' }, 'the query before it still counts')
})

t.test('cookies and query values are decoded; empty ones do not count', async (t) => {
  t.same(credentialFrom(carrier({ cookie: 'theme=dark; access_token="a%2Eb"' }), true), { token: 'a.b', source: 'cookie' })
  t.equal(credentialFrom(carrier({ cookie: 'access_token=%E0%A4%A' }), true), undefined, 'a malformed cookie value')
  t.equal(credentialFrom(carrier({ cookie: 'access_token=', url: '/ws/events?token=' }), true), undefined)
  t.same(credentialFrom(carrier({ url: '/ws/events?%74oken=a%2Eb' }), true), { token: 'a.b', source: 'query' })
  t.same(credentialFrom(carrier({ url: '/ws/events?token=a&token=b' }), true), { token: 'a', source: 'query' }, 'the first of repeated values')
})

t.test('bearerToken reads only a Bearer header with a value', async (t) => {
  t.equal(bearerToken('Bearer abc'), 'abc')
  t.equal(bearerToken('Basic abc'), undefined)
  t.equal(bearerToken('Bearer '), undefined)
  t.equal(bearerToken(undefined), undefined)
})

/** Credentials as the gateway verifies them, on a memory store; `verified` counts the JWTs checked. */
function credentials (t: Test) {
  const store = new MemoryStore()
  t.teardown(async () => { await store.close() })
  const log = pino({ level: 'silent' })
  const verify = createVerifier({ key: TEST_SECRET, algorithms: ['HS256'], cache: true })
  const counts = { verified: 0 }
  const tickets = new Tickets(store, 30_000)
  const revocations = new Revocations(store, 60_000, log)
  const checks = new Credentials({
    claims: (jwt) => {
      counts.verified++
      return verify(jwt) as Record<string, unknown>
    },
    tickets,
    revocations,
    log
  })
  return { checks, tickets, revocations, counts }
}

async function identityOf (checks: Credentials, jwt: string): Promise<Identity> {
  const verdict = await checks.token(jwt)
  if (!('identity' in verdict)) throw new Error(`refused: ${verdict.reason}`)
  return verdict.identity
}

const header = (jwt: string): CredentialCarrier => carrier({ authorization: `Bearer ${jwt}` })

t.test('a valid token names its identity; what the token lacks names the refusal', async (t) => {
  const { checks } = credentials(t)
  t.match(await checks.verdict(header(userToken('alice')), false), { identity: { userId: 'alice', sessionId: 'session-alice' } })
  t.same(await checks.verdict(carrier({}), false), { reason: 'token_missing', detail: 'no token in header or query' })
  t.same(await checks.verdict(carrier({}), true), { reason: 'token_missing', detail: 'no token in header, cookie or query' })
  const past = Math.floor(Date.now() / 1000) - 10
  t.same(await checks.verdict(header(token({ sub: 'alice', exp: past })), false), { reason: 'token_expired', detail: 'FAST_JWT_EXPIRED' })
  t.same(await checks.verdict(header(token({ sub: 'alice' }, 'another-secret-that-is-also-long-enough-000000')), false), { reason: 'token_invalid', detail: 'FAST_JWT_INVALID_SIGNATURE' })
  t.same(await checks.verdict(header(token({ roles: ['admin'] })), false), { reason: 'token_invalid', detail: 'token has no valid sub claim' }, 'signed, but naming nobody')
})

t.test('a token too long to be real is refused before it is parsed', async (t) => {
  const { checks, counts } = credentials(t)
  t.same(await checks.token('x'.repeat(8193)), { reason: 'token_invalid', detail: 'token too long' })
  t.equal(counts.verified, 0)
})

t.test('a ticket stands for its identity once, on upgrades only', async (t) => {
  const { checks, tickets } = credentials(t)
  const { ticket } = await tickets.issue(await identityOf(checks, userToken('alice')))
  const upgrade = carrier({ url: `/ws/events?ticket=${ticket}` })
  t.same(await checks.verdict(upgrade, false), { reason: 'token_missing', detail: 'no token in header or query' }, 'not over HTTP')
  t.match(await checks.verdict(upgrade, true), { identity: { userId: 'alice' } })
  t.same(await checks.verdict(upgrade, true), { reason: 'ticket_invalid', detail: 'unknown, used or expired ticket' }, 'used')
})

t.test('a ticket the store cannot redeem is refused, not thrown', async (t) => {
  const { revocations } = credentials(t)
  const failing = new Credentials({
    claims: () => ({}),
    tickets: { redeem: async () => { throw new Error('store unreachable') } },
    revocations,
    log: pino({ level: 'silent' })
  })
  t.same(await failing.verdict(carrier({ url: '/ws/events?ticket=abc' }), true), { reason: 'ticket_invalid', detail: 'store failed' })
})

t.test('a revoked session is refused, naming its user, by token and by ticket alike', async (t) => {
  const { checks, tickets, revocations } = credentials(t)
  const { ticket } = await tickets.issue(await identityOf(checks, userToken('alice')))
  await revocations.revoke({ sessionId: 'session-alice' }, 'admin-1')
  const revoked = { reason: 'session_revoked', detail: 'a revocation covers this token', userId: 'alice', sessionId: 'session-alice' }
  t.same(await checks.verdict(header(userToken('alice')), false), revoked)
  t.same(await checks.verdict(carrier({ url: `/ws/events?ticket=${ticket}` }), true), revoked)
  t.match(await checks.token(userToken('bob')), { identity: { userId: 'bob' } }, 'others pass')
})

t.test('refusals: 4001 on a socket and 401 over HTTP, but 1013 and 503 while revocations cannot be read', async (t) => {
  t.same(socketRefusal('token_expired'), { code: CloseCode.UNAUTHORIZED, reason: 'token_expired' })
  t.same(socketRefusal('revocation_unavailable'), { code: CloseCode.TRY_AGAIN_LATER, reason: 'revocation_unavailable' })
  t.match(httpRefusal('token_missing'), { code: 'EVENTGATE_UNAUTHORIZED', statusCode: 401, message: 'token_missing' })
  t.match(httpRefusal('revocation_unavailable'), { code: 'EVENTGATE_BUS_UNAVAILABLE', statusCode: 503 })
})
