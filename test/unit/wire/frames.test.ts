import t from 'tap'
import { isAuthenticate } from '../../../src/pending-authentication.js'
import { requestHandlers } from '../../../src/requests.js'
import { AUTHENTICATE_TYPES, MAX_REQUEST_TYPE_LENGTH, PUSH_TYPES, REPLY_TYPES, REQUEST_TYPES } from '../../../src/wire/frames.js'

t.test('the frame type lists hold distinct names a request type may have', async (t) => {
  for (const [name, list] of Object.entries({ REQUEST_TYPES, AUTHENTICATE_TYPES, REPLY_TYPES, PUSH_TYPES })) {
    t.ok(list.length > 0, `${name} is not empty`)
    t.equal(new Set(list).size, list.length, `${name} names each type once`)
    t.ok(list.every((type) => type.length > 0 && type.length <= MAX_REQUEST_TYPE_LENGTH), `${name}: lengths`)
  }
  t.ok(REPLY_TYPES.includes('error') && PUSH_TYPES.includes('error'), 'error answers a request, or none')
})

t.test('every listed request type is handled, by a handler or by the session as the token swap', async (t) => {
  const handled = new Set([...Object.keys(requestHandlers), 'reauthenticate', 're-authenticate'])
  t.same(REQUEST_TYPES.filter((type) => !handled.has(type)), [])
  t.same(Object.keys(requestHandlers).filter((type) => !(REQUEST_TYPES as readonly string[]).includes(type)), [], 'no handler for a type the list misses')
})

t.test('a socket waiting to authenticate understands exactly the authenticate names', async (t) => {
  for (const type of AUTHENTICATE_TYPES) t.ok(isAuthenticate(type), type)
  for (const type of ['subscribe', 'Authenticate', 'authenticate ', '']) t.notOk(isAuthenticate(type), JSON.stringify(type))
})
