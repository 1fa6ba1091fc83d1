import t from 'tap'
import { higherRole, isRoomName, publishRefusal, roleAllows } from '../../src/wire/rooms.js'

t.test('room names: letters, digits and _ - . : up to 64, starting with a letter or digit', async (t) => {
  for (const name of ['incident-42', 'tenant:acme', 'team.payments', 'A', '9_x', 'r'.repeat(64)]) t.ok(isRoomName(name), name)
  for (const name of ['', '-x', 'a b', 'a/b', 'é', 'r'.repeat(65), 42, null]) t.notOk(isRoomName(name), String(name))
})

t.test('roles form a ladder: each may do what the ones below it may', async (t) => {
  t.ok(roleAllows('admin', 'write'))
  t.ok(roleAllows('write', 'read'))
  t.notOk(roleAllows('read', 'write'))
  t.notOk(roleAllows(undefined, 'read'))
  t.equal(higherRole('admin', 'read'), 'admin')
  t.equal(higherRole(undefined, 'read'), 'read')
  t.equal(higherRole('read', 'write'), 'write')
})

t.test('what a role may publish into a room', async (t) => {
  t.match(publishRefusal('read', 'room.message'), /needs role write/)
  t.match(publishRefusal(undefined, 'room.message'), /needs role write/)
  t.equal(publishRefusal('write', 'room.message'), undefined)
  t.match(publishRefusal('write', 'incident.status'), /need role admin/)
  t.equal(publishRefusal('admin', 'incident.status'), undefined)
  for (const type of ['room.user_joined', 'room.user_left']) t.match(publishRefusal('admin', type), /gateway alone/, type)
  for (const type of ['security.alert', 'authentication.login.success', 'session.created', 'system.started', 'admin.x']) {
    t.match(publishRefusal('admin', type), /backend services only/, type)
  }
})
