import { EventEmitter } from 'node:events'
import pino from 'pino'
import t, { type Test } from 'tap'
import { Admissions, type HandedUpgrade } from '../../src/admissions.js'
import { CloseCode } from '../../src/errors.js'
import { ConnectionSlots } from '../../src/slots.js'
import { MemoryStore } from '../../src/store/memory.js'

const SERVER_FULL = { refusal: { code: CloseCode.TRY_AGAIN_LATER, reason: 'server_full' } }
const TOO_MANY_CONNECTIONS = { refusal: { code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'too_many_connections' } }

/** Admissions on real per-user slots in a memory store; connection ids c1, c2, … in order. */
function setup (t: Test, limit: number, perUser: number, open = 0) {
  const store = new MemoryStore()
  t.teardown(async () => { await store.close() })
  const slots = new ConnectionSlots(store, perUser, 60_000, () => 0, pino({ level: 'silent' }))
  const state = { open }
  let ids = 0
  const admissions = new Admissions(limit, () => state.open, slots, () => `c${++ids}`)
  return { admissions, state }
}

const admitted = (userId: string, connectionId: string): HandedUpgrade => ({ refusal: undefined, connectionId, user: { userId } })

t.test('places held by upgrades in flight count with the open sockets', async (t) => {
  const { admissions, state } = setup(t, 3, 1, 1)
  const [a, b, c, d] = [new EventEmitter(), new EventEmitter(), new EventEmitter(), new EventEmitter()]
  const alice = admissions.admit(a, 'alice')
  const bob = admissions.admit(b, 'bob')
  t.same(await admissions.admit(c, 'carol'), SERVER_FULL, 'one open and two waiting for the store fill three')
  t.same(await alice, { connectionId: 'c1' })
  t.same(await bob, { connectionId: 'c2' })
  t.same(admissions.handOver(a, admitted('alice', 'c1'), false), { connectionId: 'c1' })
  state.open = 2
  t.same(await admissions.admit(c, 'carol'), SERVER_FULL, 'an upgrade that opened is counted by the open sockets instead')
  t.same(admissions.handOver(b, admitted('bob', 'c2'), true), { refusal: { code: CloseCode.GOING_AWAY, reason: 'server_shutting_down' } }, 'upgraded once the drain began')
  t.same(await admissions.admit(c, 'carol'), { connectionId: 'c3' }, 'a refused one frees its place')
  t.equal(admissions.size, 1)
  admissions.handOver(c, admitted('carol', 'c3'), false)
  t.same(await admissions.admit(d, 'bob'), { connectionId: 'c4' }, 'and gives back its slot')
})

t.test('a user holding every slot is refused 4008, and the refusal holds no place', async (t) => {
  const { admissions } = setup(t, 10, 1)
  const [a, b] = [new EventEmitter(), new EventEmitter()]
  t.same(await admissions.admit(a, 'alice'), { connectionId: 'c1' })
  t.same(await admissions.admit(b, 'alice'), TOO_MANY_CONNECTIONS)
  t.equal(admissions.size, 1, 'only the admitted upgrade holds a place')
  t.equal(b.listenerCount('close'), 0)
})

t.test('an upgrade whose socket closes first frees its place and gives back its slot', async (t) => {
  const { admissions } = setup(t, 2, 1)
  const [early, late, again] = [new EventEmitter(), new EventEmitter(), new EventEmitter()]
  const leaving = admissions.admit(early, 'alice')
  early.emit('close')
  t.equal(await leaving, undefined, 'the client left while the store was asked: nothing will open')
  t.same(await admissions.admit(late, 'alice'), { connectionId: 'c2' }, 'the slot granted after the close was given back')
  late.emit('close')
  t.equal(admissions.size, 0)
  t.same(await admissions.admit(again, 'alice'), { connectionId: 'c3' }, 'so was the one granted before it')
})

t.test('a handed-over upgrade keeps no listener on its socket; its slot is the session\'s', async (t) => {
  const { admissions } = setup(t, 2, 1)
  const [socket, other] = [new EventEmitter(), new EventEmitter()]
  t.same(await admissions.admit(socket, 'alice'), { connectionId: 'c1' })
  admissions.handOver(socket, admitted('alice', 'c1'), false)
  t.equal(socket.listenerCount('close'), 0)
  socket.emit('close')
  t.same(await admissions.admit(other, 'alice'), TOO_MANY_CONNECTIONS, 'the slot is still held')
})

t.test('handing over a refused upgrade closes it with its refusal, and never reads its user', async (t) => {
  const { admissions } = setup(t, 2, 1)
  const noUser = (refusal: HandedUpgrade['refusal']): HandedUpgrade => ({
    refusal,
    connectionId: undefined,
    get user (): never { throw new Error('a refused upgrade has no user') }
  })
  const unauthorized = { code: CloseCode.UNAUTHORIZED, reason: 'token_invalid' }
  t.same(admissions.handOver(new EventEmitter(), noUser(unauthorized), false), { refusal: unauthorized })
  t.same(admissions.handOver(new EventEmitter(), noUser(undefined), true), { refusal: { code: CloseCode.TRY_AGAIN_LATER, reason: 'not_admitted' } }, 'neither refused nor admitted')
})

t.test('an upgrade past its user\'s budget is limited, and gives back its place', async (t) => {
  const store = new MemoryStore()
  t.teardown(async () => { await store.close() })
  const slots = new ConnectionSlots(store, 5, 60_000, () => 0, pino({ level: 'silent' }), { max: 1, windowMs: 60_000 })
  const admissions = new Admissions(10, () => 0, slots, () => 'c')
  const [a, b] = [new EventEmitter(), new EventEmitter()]
  t.same(await admissions.admit(a, 'alice', true), { connectionId: 'c' })
  const limited = await admissions.admit(b, 'alice', true)
  t.ok(limited !== undefined && 'limited' in limited && limited.limited.retryInMs > 0, 'the second upgrade in the window')
  t.equal(admissions.size, 1, 'only the admitted one holds a place')
  t.same(await admissions.admit(b, 'alice'), { connectionId: 'c' }, 'a socket that authenticated once open is not counted')
})
