import { EventEmitter } from 'node:events'
import t from 'tap'
import { Admissions } from '../src/admissions.js'

function setup (limit: number, open = 0) {
  const abandoned: string[] = []
  const state = { open }
  const admissions = new Admissions(limit, () => state.open, (userId, connectionId) => { abandoned.push(`${userId}/${connectionId}`) })
  return { admissions, abandoned, state }
}

t.test('places held by upgrades in flight count with the open sockets', async (t) => {
  const { admissions, state } = setup(3, 1)
  const [a, b, c] = [new EventEmitter(), new EventEmitter(), new EventEmitter()]
  t.ok(admissions.reserve(a, 'alice'))
  t.ok(admissions.reserve(b, 'bob'))
  t.notOk(admissions.reserve(c, 'carol'), 'one open and two in flight fill three')
  admissions.settle(a)
  state.open = 2
  t.notOk(admissions.reserve(c, 'carol'), 'an upgrade that opened is counted by the open sockets instead')
  admissions.settle(b)
  t.ok(admissions.reserve(c, 'carol'), 'a refused one frees its place')
  t.equal(admissions.size, 1)
})

t.test('an upgrade whose socket closes first frees its place and gives back its slot', async (t) => {
  const { admissions, abandoned } = setup(2)
  const [early, late] = [new EventEmitter(), new EventEmitter()]
  t.ok(admissions.reserve(early, 'alice'))
  early.emit('close')
  t.notOk(admissions.granted(early, 'c1'), 'a slot granted after the close is the caller\'s to give back')
  t.same(abandoned, [], 'none was granted when it closed')

  t.ok(admissions.reserve(late, 'bob'))
  t.ok(admissions.granted(late, 'c2'))
  late.emit('close')
  t.same(abandoned, ['bob/c2'])
  t.equal(admissions.size, 0)
})

t.test('a settled upgrade keeps no listener on its socket', async (t) => {
  const { admissions, abandoned } = setup(1)
  const socket = new EventEmitter()
  t.ok(admissions.reserve(socket, 'alice'))
  t.ok(admissions.granted(socket, 'c1'))
  admissions.settle(socket)
  t.equal(socket.listenerCount('close'), 0)
  socket.emit('close')
  t.same(abandoned, [], 'the session owns the slot once it opened')
})
