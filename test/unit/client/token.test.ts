import t from 'tap'
import { token } from '../../../harness/tokens.js'
import { earliestRefresh, refreshDue, tokenExpiresAt } from '../../../src/client/token.js'

t.test('token: exp read without verifying, browser-safe', async (t) => {
  const exp = Math.floor(Date.now() / 1000) + 120
  t.equal(tokenExpiresAt(token({ sub: 'ünïcødé-user', exp })), exp * 1000, 'a base64url payload with UTF-8 claims')
  t.equal(tokenExpiresAt(token({ sub: 'alice', exp: undefined })), undefined, 'no exp')
  for (const bad of ['', 'abc', 'a.!!!.c', 'a.e30.c', `a.${btoa('{"exp":"soon"}')}.c`]) {
    t.equal(tokenExpiresAt(bad), undefined, `unreadable: ${JSON.stringify(bad)}`)
  }
})

t.test('token: refresh schedule', async (t) => {
  t.equal(refreshDue(200_000, 0), 170_000, 'a long token: 30 s before exp')
  t.equal(refreshDue(4000, 0), 3000, 'a short token: a quarter of its life before exp')
  t.equal(earliestRefresh(4000, 0), 2000, 'a warning brings the refresh forward, not before halfway')
})
