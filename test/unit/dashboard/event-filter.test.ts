import t from 'tap'
import { parseFilter } from '../../../dashboard/event-filter.js'
import type { GatewayEvent } from '../../../src/client/index.js'

const event = (fields: Partial<GatewayEvent>): GatewayEvent => ({ id: '1-0', type: 'orders.created', timestamp: '2026-12-02T10:00:00.000Z', data: {}, ...fields })
const failed = event({ type: 'authentication.login.failed', userId: 'alice', data: { ip: '198.51.100.9', attempts: 3, reason: 'bad_password' } })
const audit = event({ type: 'security.auth.failed', audience: 'admin', data: { ip: '198.51.100.90', userId: 'bob', reason: 'token_invalid' } })
const room = event({ type: 'room.message', groups: ['ops', 'incident-42'], sender: 'carol', data: { text: 'Disk full' } })
const all = [failed, audit, room]
const kept = (text: string): string[] => {
  const test = parseFilter(text)
  return all.filter((e) => test === undefined || test(e)).map((e) => e.type)
}

t.test('an empty filter keeps everything', async (t) => {
  t.equal(parseFilter('   '), undefined)
})

t.test('free text searches the whole event, case-insensitively', async (t) => {
  t.same(kept('disk'), ['room.message'])
  t.same(kept('198.51.100.9'), ['authentication.login.failed', 'security.auth.failed'], 'a part of a value')
})

t.test('fields: a part with `:`, the exact value with `=`', async (t) => {
  t.same(kept('address:198.51.100.9'), ['authentication.login.failed', 'security.auth.failed'])
  t.same(kept('address=198.51.100.9'), ['authentication.login.failed'], 'an exact address is not a prefix of another')
  t.same(kept('ip=198.51.100.90'), ['security.auth.failed'])
  t.same(kept('user=bob'), ['security.auth.failed'], 'the user an audit event names')
  t.same(kept('user=carol'), ['room.message'], 'a sender is a user too')
  t.same(kept('type:failed'), ['authentication.login.failed', 'security.auth.failed'])
  t.same(kept('room=ops'), ['room.message'])
  t.same(kept('group:incident'), ['room.message'])
  t.same(kept('severity=alert'), ['authentication.login.failed', 'security.auth.failed'])
})

t.test('any data field, by name or as data.name, values that are not text as JSON', async (t) => {
  t.same(kept('reason=token_invalid'), ['security.auth.failed'])
  t.same(kept('data.attempts=3'), ['authentication.login.failed'])
  t.same(kept('attempts:3'), ['authentication.login.failed'])
  t.same(kept('missing:x'), [], 'a field no event has keeps none')
})

t.test('every term must hold', async (t) => {
  t.same(kept('type:failed user=alice'), ['authentication.login.failed'])
  t.same(kept('type:failed disk'), [])
})
