import t from 'tap'
import { canPublish, canReadStats, canRevoke, identityFromClaims, isAdmin, type Identity } from '../../src/identity.js'

t.test('identityFromClaims reads a full set of claims', async (t) => {
  t.same(identityFromClaims({ sub: 'alice', sid: 's1', roles: ['user'], permissions: ['events:read'], jti: 'j1', exp: 1700000000, iat: 1, extra: 'ignored' }), {
    userId: 'alice',
    sessionId: 's1',
    roles: ['user'],
    permissions: ['events:read'],
    tokenId: 'j1',
    expiresAt: 1700000000 * 1000,
    issuedAt: 1000,
    rooms: new Map(),
    groups: []
  })
})

t.test('identityFromClaims reads the rooms a token grants: groups as read, rooms with their role', async (t) => {
  const identity = identityFromClaims({ sub: 'alice', groups: ['team-a', 'ops', 'team-a'], rooms: { 'incident-42': 'write', ops: 'admin', 'tenant:acme': 'read' } }) as Identity
  t.same(identity.groups, ['team-a', 'ops'], 'groups, each once')
  t.same(Object.fromEntries(identity.rooms), { 'incident-42': 'write', ops: 'admin', 'tenant:acme': 'read', 'team-a': 'read' }, 'a group keeps a higher role its rooms claim grants')
})

t.test('identityFromClaims defaults the optional claims', async (t) => {
  t.same(identityFromClaims({ sub: 'bob' }), {
    userId: 'bob', sessionId: undefined, roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: []
  })
  t.match(identityFromClaims({ sub: 'bob', jti: 5, exp: '1700000000' }), { tokenId: undefined, expiresAt: undefined }, 'non-string jti and non-numeric exp are ignored')
  t.match(identityFromClaims({ sub: 'x'.repeat(256) }), { userId: 'x'.repeat(256) }, 'sub at its limit')
})

t.test('identityFromClaims refuses invalid claims with a reason', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['missing sub', {}, /no valid sub/],
    ['numeric sub', { sub: 42 }, /no valid sub/],
    ['empty sub', { sub: '' }, /no valid sub/],
    ['null sub', { sub: null }, /no valid sub/],
    ['oversized sub', { sub: 'x'.repeat(257) }, /no valid sub/],
    ['numeric sid', { sub: 'a', sid: 1 }, /invalid sid/],
    ['oversized sid', { sub: 'a', sid: 's'.repeat(257) }, /invalid sid/],
    ['roles not an array', { sub: 'a', roles: 'admin' }, /invalid roles/],
    ['roles with a number', { sub: 'a', roles: ['user', 1] }, /invalid roles/],
    ['permissions not an array', { sub: 'a', permissions: { 'events:publish': true } }, /invalid permissions/],
    ['permissions with numbers', { sub: 'a', permissions: ['events:publish', 2, 3] }, /invalid permissions/],
    ['groups not an array', { sub: 'a', groups: 'team-a' }, /invalid groups/],
    ['a group name with a space', { sub: 'a', groups: ['team a'] }, /invalid groups/],
    ['65 groups', { sub: 'a', groups: Array.from({ length: 65 }, (_, i) => `g${i}`) }, /invalid groups/],
    ['rooms an array', { sub: 'a', rooms: ['incident-42'] }, /invalid rooms/],
    ['a room with an unknown role', { sub: 'a', rooms: { 'incident-42': 'owner' } }, /invalid rooms/],
    ['a room name too long', { sub: 'a', rooms: { ['r'.repeat(65)]: 'read' } }, /invalid rooms/]
  ]
  for (const [name, claims, reason] of cases) {
    const result = identityFromClaims(claims)
    t.equal(typeof result, 'string', `${name} gives a reason`)
    t.match(result, reason, name)
  }
})

function who (roles: string[], permissions: string[] = []): Identity {
  const identity = identityFromClaims({ sub: 'u', roles, permissions })
  if (typeof identity === 'string') throw new Error(identity)
  return identity
}

t.test('isAdmin and canPublish', async (t) => {
  // [roles, permissions, admin?, may publish?]
  const cases: Array<[string[], string[], boolean, boolean]> = [
    [[], [], false, false],
    [['user'], [], false, false],
    [['admin'], [], true, true],
    [['user', 'admin'], [], true, true],
    [['service'], [], false, true],
    [[], ['events:publish'], false, true],
    [[], ['events:read', 'events:publish:all'], false, false],
    [['Admin', 'administrator', 'services'], ['events:Publish'], false, false]
  ]
  for (const [roles, permissions, admin, publish] of cases) {
    const identity = who(roles, permissions)
    const label = `roles ${JSON.stringify(roles)} permissions ${JSON.stringify(permissions)}`
    t.equal(isAdmin(identity), admin, `${label}: isAdmin ${admin}`)
    t.equal(canPublish(identity), publish, `${label}: canPublish ${publish}`)
  }
})

t.test('an empty sid is refused', async (t) => {
  t.equal(identityFromClaims({ sub: 'alice', sid: '' }), 'token has an invalid sid claim')
})

t.test('iat is read as issuedAt; without it the identity has none', async (t) => {
  t.match(identityFromClaims({ sub: 'alice', iat: 1700000000 }), { issuedAt: 1700000000 * 1000 })
  t.notOk('issuedAt' in (identityFromClaims({ sub: 'alice' }) as Identity), 'no iat, no issuedAt')
  t.notOk('issuedAt' in (identityFromClaims({ sub: 'alice', iat: '1700000000' }) as Identity), 'a non-numeric iat is ignored')
})

t.test('canRevoke: role admin or service, nothing else', async (t) => {
  t.equal(canRevoke(who(['admin'])), true)
  t.equal(canRevoke(who(['service'])), true)
  t.equal(canRevoke(who(['user'])), false)
  t.equal(canRevoke(who([], ['events:publish'])), false, 'publishing does not include revoking')
})

t.test('canReadStats: role admin or moderator, and a moderator gets no other admin right', async (t) => {
  t.equal(canReadStats(who(['admin'])), true)
  t.equal(canReadStats(who(['moderator'])), true)
  t.equal(canReadStats(who(['service'])), false)
  t.equal(canReadStats(who(['user'], ['events:publish'])), false)
  t.equal(canReadStats(who(['Moderator', 'moderators'])), false)
  const moderator = who(['moderator'])
  t.same([isAdmin(moderator), canPublish(moderator), canRevoke(moderator)], [false, false, false])
})
