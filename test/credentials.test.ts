import t from 'tap'
import { bearerToken, type CredentialCarrier, credentialFrom } from '../src/credentials.js'

const carrier = (fields: Partial<CredentialCarrier>): CredentialCarrier => ({ authorization: undefined, cookie: undefined, url: '/ws/events', ...fields })

t.test('the header comes first, then the cookie and the ticket on upgrades, then the query token', async (t) => {
  const all = carrier({ authorization: 'Bearer h', cookie: 'access_token=c', url: '/ws/events?token=q&ticket=k' })
  t.same(credentialFrom(all, true), { token: 'h', source: 'header' })
  t.same(credentialFrom({ ...all, authorization: undefined }, true), { token: 'c', source: 'cookie' })
  t.same(credentialFrom({ ...all, authorization: undefined, cookie: undefined }, true), { token: 'k', source: 'ticket' })
  t.same(credentialFrom(carrier({ url: '/ws/events?token=q' }), true), { token: 'q', source: 'query' })
  t.equal(credentialFrom(carrier({}), true), undefined)
})

t.test('HTTP requests take neither the cookie nor a ticket', async (t) => {
  t.equal(credentialFrom(carrier({ cookie: 'access_token=c' }), false), undefined, 'a browser sends the cookie to any POST: forgeable')
  t.equal(credentialFrom(carrier({ url: '/events?ticket=k' }), false), undefined)
  t.same(credentialFrom(carrier({ cookie: 'access_token=c', url: '/events?token=q' }), false), { token: 'q', source: 'query' })
  t.same(credentialFrom(carrier({ authorization: 'bearer  h ' }), false), { token: 'h', source: 'header' })
})

t.test('nothing after # is a credential', async (t) => {
  for (const url of ['/ws/events#token=j', '/ws/events#?token=j', '/ws/events#x?token=j', '/ws/events#ticket=k', '/ws/events?#token=j']) {
    t.equal(credentialFrom(carrier({ url }), true), undefined, url)
  }
  t.same(credentialFrom(carrier({ url: '/ws/events?token=j#token=other' }), true), { token: 'j', source: 'query' }, 'the query before it still counts')
})

t.test('cookies and query values are decoded; empty ones do not count', async (t) => {
  t.same(credentialFrom(carrier({ cookie: 'theme=dark; access_token="a%2Eb"' }), true), { token: 'a.b', source: 'cookie' })
  t.equal(credentialFrom(carrier({ cookie: 'access_token=%E0%A4%A' }), true), undefined, 'a malformed cookie value')
  t.equal(credentialFrom(carrier({ cookie: 'access_token=', url: '/ws/events?token=' }), true), undefined)
  t.same(credentialFrom(carrier({ url: '/ws/events?%74oken=a%2Eb' }), true), { token: 'a.b', source: 'query' })
  t.same(credentialFrom(carrier({ url: '/ws/events?token=a&token=b' }), true), { token: 'a', source: 'query' }, 'the first of repeated values')
})

t.test('bearerToken reads only a Bearer header with a value', async (t) => {
  t.equal(bearerToken('Bearer abc'), 'abc')
  t.equal(bearerToken('Basic abc'), undefined)
  t.equal(bearerToken('Bearer '), undefined)
  t.equal(bearerToken(undefined), undefined)
})
