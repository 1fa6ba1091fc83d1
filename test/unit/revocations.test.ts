import t from 'tap'
import { createDraft, type EventInput, type GatewayEvent } from '../../src/events.js'
import type { Identity } from '../../src/identity.js'
import type { Log } from '../../src/logging.js'
import { covers, MAX_REMEMBERED, OWN_VIEW, type Revocation, revocationEvent, revocationFrom, Revocations } from '../../src/revocations.js'
import { MemoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'

const T0 = 1_700_000_000_000

/** The event the bus makes of `input`: the id is any id, revocations do not read it. */
const eventOf = (input: EventInput): GatewayEvent => ({ id: `${T0}-0`, ...createDraft(input) })
const log: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => log }

function who (userId: string, sessionId?: string, issuedAt?: number): Identity {
  return { userId, sessionId, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [], ...(issuedAt === undefined ? {} : { issuedAt }) }
}

function setup (ttlMs = 60_000) {
  const clock = { now: T0 }
  const store = new MemoryStore(() => clock.now)
  t.teardown(async () => { await store.close() })
  return { clock, store, revocations: new Revocations(store, ttlMs, log, () => clock.now) }
}

t.test('covers: a session whatever its tokens; a user\'s tokens issued before the revocation', async (t) => {
  const session = { sessionId: 's1', revokedAt: T0 }
  t.ok(covers(session, who('alice', 's1', T0 + 5000)), 'a session is revoked whenever its token was issued')
  t.notOk(covers(session, who('alice', 's2', T0 - 5000)))
  t.notOk(covers(session, who('alice')), 'a token without sid')
  const user = { userId: 'bob', revokedAt: T0 + 300 }
  t.ok(covers(user, who('bob', 'b1', T0 - 1000)))
  t.ok(covers(user, who('bob', 'b1', T0)), 'iat in the revocation\'s second counts as before it')
  t.ok(covers(user, who('bob')), 'a token without iat counts as before')
  t.notOk(covers(user, who('bob', 'b1', T0 + 1000)), 'issued after')
  t.notOk(covers(user, who('carol', 'c1', T0 - 1000)))
})

t.test('covers: a token by its jti alone, whatever its user, session or iat', async (t) => {
  const token = { tokenId: 'j1', revokedAt: T0 }
  const holder = { ...who('alice', 's1', T0 + 5000), tokenId: 'j1' }
  t.ok(covers(token, holder))
  t.notOk(covers(token, { ...holder, tokenId: 'j2' }), 'another token of the same user and session')
  t.notOk(covers(token, who('alice', 's1')), 'a token without jti')
  t.notOk(covers({ ...token, sessionId: 's1', userId: 'alice' }, { ...holder, tokenId: 'j2' }), 'the jti decides, not the session or user beside it')
})

t.test('a token revocation is stored under its jti and refused token_revoked, remembered once applied', async (t) => {
  const { clock, store, revocations } = setup(60_000)
  const holder = { ...who('alice', 's1'), tokenId: 'j1' }
  t.same(await revocations.revoke({ tokenId: 'j1' }, 'root'), { tokenId: 'j1', revokedAt: T0, by: 'root' })
  t.equal(await store.get('revoked:token:j1'), String(T0))
  t.match(await revocations.refusal(holder), { reason: 'token_revoked' })
  t.equal(await revocations.refusal({ ...holder, tokenId: 'j2' }), undefined, 'the user\'s other token of the session stands')
  t.equal(await revocations.refusal(who('alice', 's1')), undefined, 'so does one without jti')
  revocations.remember({ tokenId: 'j1', revokedAt: T0, by: 'root' })
  t.equal(revocations.appliedTo(holder), 'token_revoked')
  t.equal(revocations.appliedTo({ ...holder, tokenId: 'j2' }), undefined)
  clock.now += 60_000
  t.equal(await revocations.refusal(holder), undefined, 'forgotten after REVOCATION_TTL')
})

t.test('revoke writes the store for REVOCATION_TTL; refusal reads it', async (t) => {
  const { clock, store, revocations } = setup(60_000)
  const revoked = await revocations.revoke({ sessionId: 's1', userId: 'alice' }, 'auth-service')
  t.same(revoked, { sessionId: 's1', userId: 'alice', revokedAt: T0, by: 'auth-service' })
  t.equal(await store.ttl('revoked:session:s1'), 60_000)
  t.match(await revocations.refusal(who('alice', 's1')), { reason: 'session_revoked' })
  t.equal(await revocations.refusal(who('alice', 's2')), undefined, 'the user\'s other sessions stand')

  clock.now += 1000
  await revocations.revoke({ userId: 'bob' }, 'root')
  t.equal(await store.get('revoked:user:bob'), String(T0 + 1000))
  t.match(await revocations.refusal(who('bob', 'b1', T0)), { reason: 'session_revoked' })
  t.equal(await revocations.refusal(who('bob', 'b1', T0 + 2000)), undefined, 'a token issued after')

  clock.now += 60_000
  t.equal(await revocations.refusal(who('alice', 's1')), undefined, 'forgotten after REVOCATION_TTL')
})

t.test('an unreachable store: users accepted, admins and publishers refused, what this instance applied enforced; logged once, counted', async (t) => {
  const broken: Store = new MemoryStore()
  let down = true
  const get = broken.get.bind(broken)
  broken.get = async (key) => { if (down) throw new Error('down'); return await get(key) }
  t.teardown(async () => { await broken.close() })
  const lines: Array<[string, string]> = []
  const recording: Log = { ...log, warn: (_obj: unknown, msg?: string) => { lines.push(['warn', msg ?? '']) }, info: (msg: unknown) => { lines.push(['info', String(msg)]) } }
  const revocations = new Revocations(broken, 60_000, recording)
  t.equal(await revocations.refusal(who('alice', 's1')), undefined, 'a user\'s token is accepted')
  const unavailable = { reason: 'revocation_unavailable', detail: /store is unreachable/ }
  t.match(await revocations.refusal({ ...who('root'), roles: ['admin'] }), unavailable, 'an admin\'s is refused')
  t.match(await revocations.refusal({ ...who('auth-service'), roles: ['service'] }), unavailable, 'a service\'s')
  t.match(await revocations.refusal({ ...who('cron'), permissions: ['events:publish'] }), unavailable, 'a publisher\'s')
  revocations.remember({ sessionId: 's1', revokedAt: Date.now(), by: 'root' })
  t.match(await revocations.refusal(who('alice', 's1')), { reason: 'session_revoked' }, 'a revocation this instance applied holds')
  t.equal(revocations.uncheckedCount, 4, 'each unchecked authentication counted')
  t.equal(lines.length, 1, 'the outage logged once')
  t.match(lines[0], ['warn', /revocations unreadable/])

  down = false
  t.equal(await revocations.refusal({ ...who('root'), roles: ['admin'] }), undefined, 'the admin is accepted once the store is back')
  t.same(lines[1], ['info', 'revocations readable again'])
  t.equal(revocations.uncheckedCount, 4)
})

t.test('remember: applied revocations are known for REVOCATION_TTL from revokedAt, then pruned', async (t) => {
  const { clock, revocations } = setup(60_000)
  revocations.remember({ sessionId: 's1', revokedAt: T0, by: 'root' })
  revocations.remember({ userId: 'bob', revokedAt: T0, by: 'root' })
  t.equal(revocations.appliedTo(who('alice', 's1')), 'session_revoked')
  t.equal(revocations.appliedTo(who('bob', 'b1', T0 - 1000)), 'session_revoked')
  t.equal(revocations.appliedTo(who('bob', 'b1', T0 + 1000)), undefined, 'a token issued after')
  clock.now = T0 + 59_999
  t.equal(revocations.appliedTo(who('alice', 's1')), 'session_revoked', 'still known just before REVOCATION_TTL')
  clock.now = T0 + 60_000
  t.equal(revocations.appliedTo(who('alice', 's1')), undefined, 'lapsed at REVOCATION_TTL')
})

t.test('remember holds at most MAX_REMEMBERED revocations, forgetting the oldest first', async (t) => {
  const { clock, revocations } = setup(60_000)
  for (let i = 0; i <= MAX_REMEMBERED; i++) {
    revocations.remember({ sessionId: `s${i}`, revokedAt: clock.now, by: 'root' })
    if (i % 1000 === 0) clock.now += 1
  }
  t.equal(revocations.appliedTo(who('alice', 's0')), undefined, 'the oldest is forgotten')
  t.equal(revocations.appliedTo(who('alice', 's1')), 'session_revoked')
  t.equal(revocations.appliedTo(who('alice', `s${MAX_REMEMBERED}`)), 'session_revoked', 'the newest is known')
})

/** Counts the store's reads: a view that is current makes none. */
function countReads (store: Store): { reads: number } {
  const counter = { reads: 0 }
  const get = store.get.bind(store)
  store.get = async (key) => {
    counter.reads++
    return await get(key)
  }
  return counter
}

t.test('with a current view an authentication reads nothing from the store, and refuses what the view holds', async (t) => {
  const { clock, store, revocations } = setup(60_000)
  const counter = countReads(store)
  const view = { current: true }
  revocations.watchedBy(view)
  t.equal(await revocations.refusal(who('alice', 's1', T0 - 1000)), undefined)
  revocations.note('user:bob', T0)
  t.same(await revocations.refusal(who('bob', 'b1', T0 - 1000)), { reason: 'session_revoked', detail: 'a revocation covers this token' }, 'an announced revocation counts')
  t.equal(await revocations.refusal(who('bob', 'b2', T0 + 1000)), undefined, 'a token issued after it passes')
  await revocations.revoke({ sessionId: 'c1' }, 'root')
  t.same(await revocations.refusal(who('carol', 'c1')), { reason: 'session_revoked', detail: 'a revocation covers this token' }, 'one revoked here counts at once')
  t.equal(counter.reads, 0, 'no read while the view is current')
  t.match(await store.revocationList(60_000, 10), [{ rule: 'session:c1', revokedAt: clock.now }], 'revoke records it in the list every instance loads')

  view.current = false
  await store.put('revoked:session:d1', String(clock.now), 60_000)
  t.same(await revocations.refusal(who('dave', 'd1')), { reason: 'session_revoked', detail: 'a revocation covers this token' }, 'not current: the store decides')
  t.equal(counter.reads, 2, 'its session\'s and user\'s keys were read')
})

t.test('a view past MAX_REMEMBERED revocations reads the store again, until a load that fits', async (t) => {
  const { clock, store, revocations } = setup(60_000)
  const counter = countReads(store)
  revocations.watchedBy(OWN_VIEW)
  const many = Array.from({ length: MAX_REMEMBERED + 1 }, (_, i) => ({ rule: `session:s${i}`, revokedAt: clock.now }))
  revocations.load(many)
  t.equal(revocations.local, false, 'more than it remembers: not whole')
  await revocations.refusal(who('alice', 'x'))
  t.equal(counter.reads, 2, 'so the store is read')
  clock.now += 60_001
  revocations.load([{ rule: 'user:bob', revokedAt: clock.now }])
  t.equal(revocations.local, true, 'a load that fits makes it whole again')
  for (let i = 0; i < MAX_REMEMBERED; i++) revocations.note(`token:j${i}`, clock.now)
  t.equal(revocations.local, false, 'a live revocation forgotten for room: not whole')
})

t.test('revocationEvent: addressed to the user when known, else to admins; revocationFrom reads it back', async (t) => {
  const session: Revocation = { sessionId: 's1', userId: 'alice', revokedAt: T0, by: 'auth-service' }
  const toAlice = eventOf(revocationEvent(session))
  t.match(toAlice, {
    type: 'session.revoked',
    userId: 'alice',
    sessionId: 's1',
    control: 'revocation',
    data: { sessionId: 's1', userId: 'alice', revokedAt: new Date(T0).toISOString(), by: 'auth-service' }
  })
  t.equal(toAlice.audience, undefined)
  t.same(revocationFrom(toAlice), session)

  const anonymous = eventOf(revocationEvent({ sessionId: 's2', revokedAt: T0, by: 'root' }))
  t.equal(anonymous.audience, 'admin', 'without its user, never a broadcast')
  t.equal(anonymous.userId, undefined)
  t.same(revocationFrom(anonymous), { sessionId: 's2', userId: undefined, revokedAt: T0, by: 'root' })

  const user = eventOf(revocationEvent({ userId: 'bob', revokedAt: T0, by: 'root' }))
  t.match(user, { userId: 'bob', data: { userId: 'bob' } })
  t.same(revocationFrom(user), { sessionId: undefined, userId: 'bob', revokedAt: T0, by: 'root' })

  const token = eventOf(revocationEvent({ tokenId: 'j1', revokedAt: T0, by: 'root' }))
  t.match(token, { type: 'session.revoked', audience: 'admin', control: 'revocation', data: { tokenId: 'j1', by: 'root' } })
  t.equal(token.userId, undefined, 'its user is not known: the broadcast partition carries it to every instance')
  t.same(revocationFrom(token), { tokenId: 'j1', sessionId: undefined, userId: undefined, revokedAt: T0, by: 'root' })
})

t.test('revocationFrom ignores events without the control mark or with a malformed revocation', async (t) => {
  const data = { sessionId: 's1', userId: 'alice', revokedAt: new Date(T0).toISOString(), by: 'x' }
  t.equal(revocationFrom(eventOf({ type: 'session.revoked', userId: 'alice', data })), undefined, 'no control mark: an ordinary event')
  const malformed: Array<Record<string, unknown>> = [
    { ...data, revokedAt: 'yesterday' },
    { ...data, revokedAt: T0 },
    { ...data, by: 7 },
    { ...data, sessionId: 5 },
    { ...data, userId: '' },
    { ...data, tokenId: 9 },
    { revokedAt: data.revokedAt, by: 'x' }
  ]
  for (const bad of malformed) {
    t.equal(revocationFrom(eventOf({ type: 'session.revoked', control: 'revocation', data: bad })), undefined, JSON.stringify(bad))
  }
})
