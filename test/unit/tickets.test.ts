import { createHash } from 'node:crypto'
import t from 'tap'
import type { Identity } from '../../src/identity.js'
import { MemoryStore } from '../../src/store/memory.js'
import { Tickets } from '../../src/tickets.js'

const T0 = 1_700_000_000_000
const alice: Identity = { userId: 'alice', sessionId: 's1', roles: ['user'], permissions: ['events:read'], tokenId: 'j1', expiresAt: T0 + 3_600_000, issuedAt: T0 - 60_000, rooms: new Map(), groups: [] }

/** Tickets over an in-process store, on a clock the test moves. */
function setup (ttlMs = 30_000) {
  const clock = { now: T0 }
  const store = new MemoryStore(() => clock.now)
  t.teardown(async () => { await store.close() })
  return { clock, store, tickets: new Tickets(store, ttlMs, () => clock.now) }
}

t.test('a ticket stands for the whole identity, once', async (t) => {
  const { tickets } = setup()
  const issued = await tickets.issue(alice)
  t.match(issued.ticket, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url')
  t.equal(issued.expiresAt, T0 + 30_000)
  t.same(await tickets.redeem(issued.ticket), alice, 'user, session, roles, permissions, token id, exp and iat')
  t.equal(await tickets.redeem(issued.ticket), undefined, 'a second use gets nothing')
  t.not((await tickets.issue(alice)).ticket, issued.ticket, 'every ticket is new')
})

t.test('the store holds a hash of the ticket under its key, never the ticket', async (t) => {
  const { store, tickets } = setup()
  const { ticket } = await tickets.issue(alice)
  const key = `ticket:${createHash('sha256').update(ticket).digest('hex')}`
  const stored = await store.get(key)
  t.ok(stored !== null, 'found under the hash')
  t.notOk(stored?.includes(ticket), 'the value does not hold the ticket')
  t.equal(await store.ttl(key), 30_000)
})

t.test('a ticket expires after its TTL, and never outlives its token', async (t) => {
  const { clock, tickets } = setup(30_000)
  const { ticket } = await tickets.issue(alice)
  clock.now += 30_000
  t.equal(await tickets.redeem(ticket), undefined, 'expired at TICKET_TTL')

  const shortLived = { ...alice, expiresAt: clock.now + 5000 }
  const issued = await tickets.issue(shortLived)
  t.equal(issued.expiresAt, shortLived.expiresAt, 'expires with the token')
  clock.now += 5000
  t.equal(await tickets.redeem(issued.ticket), undefined)

  const noExpiry = { ...alice, expiresAt: undefined }
  t.equal((await tickets.issue(noExpiry)).expiresAt, clock.now + 30_000, 'a token without exp leaves the TTL alone')
})

t.test('forged tickets are refused', async (t) => {
  const { tickets } = setup()
  const { ticket } = await tickets.issue(alice)
  const altered = `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`
  for (const forged of [altered, 'A'.repeat(43), '', 'not-a-ticket', `${ticket}=`, ticket.slice(1)]) {
    t.equal(await tickets.redeem(forged), undefined, JSON.stringify(forged))
  }
  t.same(await tickets.redeem(ticket), alice, 'the forgeries spent nothing')
})
