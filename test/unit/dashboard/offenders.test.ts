import t from 'tap'
import { Offenders } from '../../../dashboard/offenders.js'
import type { GatewayEvent } from '../../../src/client/index.js'

const NOW = Date.parse('2026-12-02T10:00:00.000Z')
let seq = 0
const event = (type: string, data: Record<string, unknown>, fields: Partial<GatewayEvent> = {}, at = NOW): GatewayEvent =>
  ({ id: `${at}-${seq++}`, type, timestamp: new Date(at).toISOString(), data, ...fields })

t.test('failed authentications and lockouts by address and by user, busiest first', async (t) => {
  const tally = new Offenders()
  for (let i = 0; i < 3; i++) tally.record(event('authentication.login.failed', { ip: '198.51.100.9' }, { userId: 'alice' }), NOW)
  tally.record(event('security.auth.failed', { ip: '192.0.2.1', userId: 'bob', reason: 'token_invalid' }, { audience: 'admin' }), NOW)
  tally.record(event('security.auth.failed', { ip: '192.0.2.1', reason: 'repeated', repeated: 45 }, { audience: 'admin' }), NOW)
  tally.record(event('authentication.account.locked', { ip: '198.51.100.9' }, { userId: 'alice' }), NOW)
  tally.record(event('security.rate_limit.exceeded', { ip: '203.0.113.5', reason: 'auth_failures' }, { audience: 'admin' }), NOW)
  t.notOk(tally.record(event('security.rate_limit.exceeded', { ip: '203.0.113.6', reason: 'publishing' }), NOW), 'another limit is no lockout')
  t.notOk(tally.record(event('authentication.login.success', { ip: '203.0.113.7' }, { userId: 'carol' }), NOW), 'a success is no offence')
  const top = tally.top(5, NOW)
  t.same(top.addresses, [{ key: '192.0.2.1', count: 46 }, { key: '198.51.100.9', count: 4 }, { key: '203.0.113.5', count: 1 }], 'a summary counts its repeats')
  t.same(top.users, [{ key: 'alice', count: 4 }, { key: 'bob', count: 1 }])
  t.equal(tally.top(1, NOW).addresses.length, 1, 'at most the limit')
})

t.test('only the window counts', async (t) => {
  const tally = new Offenders()
  tally.record(event('authentication.login.failed', { ip: '198.51.100.9' }, {}, NOW - 16 * 60_000), NOW)
  tally.record(event('authentication.login.failed', { ip: '198.51.100.10' }, {}, NOW - 60_000), NOW)
  t.same(tally.top(5, NOW).addresses, [{ key: '198.51.100.10', count: 1 }])
  tally.reset()
  t.same(tally.top(5, NOW), { addresses: [], users: [] })
})
