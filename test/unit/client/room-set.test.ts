import t from 'tap'
import { EventgateError } from '../../../src/client/errors.js'
import { RoomSet } from '../../../src/client/room-set.js'

t.test('a room is remembered once, resolves its joins on acceptance, and is rejoined only once accepted', async (t) => {
  const set = new RoomSet()
  t.ok(set.add('ops'), 'new: to be sent')
  t.notOk(set.add('ops'), 'asked for twice: sent once')
  const first = set.joined('ops')
  const second = set.joined('ops')
  t.same(set.rooms(true), [])
  t.same(set.rooms(false), ['ops'])
  set.accept('ops', 'write')
  t.same(await first, { room: 'ops', role: 'write' })
  t.same(await second, { room: 'ops', role: 'write' })
  t.same(await set.joined('ops'), { room: 'ops', role: 'write' }, 'at once once accepted')
  t.same(set.rooms(true), ['ops'])
  t.same(set.rooms(false), [])
})

t.test('forgetting rejects the joins waiting and ignores a late acceptance', async (t) => {
  const set = new RoomSet()
  set.add('ops')
  const waiting = set.joined('ops')
  t.ok(set.forget('ops', new EventgateError('ROOM_FULL', 'full')))
  await t.rejects(waiting, { code: 'ROOM_FULL' })
  set.accept('ops', 'read')
  t.same(set.rooms(true), [], 'an answer after the room was forgotten does not bring it back')
  t.notOk(set.forget('ops', new EventgateError('FORBIDDEN', 'gone')), 'forgotten already')
  t.equal(await set.joined('ops'), undefined)
})

t.test('groups follow the connected frame and the pushes', async (t) => {
  const set = new RoomSet()
  set.placeGroups(['team'])
  t.ok(set.addGroup('night-shift'))
  t.notOk(set.addGroup('team'), 'held already')
  set.removeGroup('team')
  t.same(set.groups, ['night-shift'])
})

t.test('abandon rejects every pending join', async (t) => {
  const set = new RoomSet()
  set.add('a')
  const pending = set.joined('a')
  set.abandon(new EventgateError('CLIENT_CLOSED', 'closed'))
  await t.rejects(pending, { code: 'CLIENT_CLOSED' })
})
