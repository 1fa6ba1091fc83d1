import t from 'tap'
import { Subscriptions } from '../../../src/client/subscriptions.js'
import type { GatewayEvent } from '../../../src/client/types.js'

/** Whether an event of `type` reaches a handler on `pattern`. */
function routed (pattern: string, type: string): boolean {
  const subscriptions = new Subscriptions()
  let reached = false
  subscriptions.add(pattern, () => { reached = true })
  subscriptions.dispatch({ id: '1-0', type, timestamp: new Date(0).toISOString(), data: {} }, (err) => { throw err })
  return reached
}

t.test('patterns route events to handlers as the gateway matches them', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['authentication.*', 'authentication.logout', true],
    ['authentication.*', 'authentication.login.success', true],
    ['authentication.*', 'authentication', false],
    ['*.login.success', 'authentication.login.success', true],
    ['*.login.success', 'authentication.login.failed', false],
    ['security.*.blocked', 'security.ip.blocked', true],
    ['security.*.blocked', 'security.ip.v6.blocked', false],
    ['session.created', 'session.created', true],
    ['session.created', 'session.created.web', false],
    ['*', 'anything.at.all', true]
  ]
  for (const [pattern, type, expected] of cases) t.equal(routed(pattern, type), expected, `${pattern} ~ ${type}`)
})

t.test('a handler on several matching patterns is called once per event; an unsubscribed pattern routes nothing', async (t) => {
  const subscriptions = new Subscriptions()
  let calls = 0
  const handler = (): void => { calls++ }
  subscriptions.add('a.*', handler)
  subscriptions.add('a.b', handler)
  subscriptions.add('*', handler)
  const event: GatewayEvent = { id: '1-0', type: 'a.b', timestamp: new Date(0).toISOString(), data: {} }
  subscriptions.dispatch(event, (err) => { throw err })
  t.equal(calls, 1, 'three matching patterns, one call')
  for (const pattern of ['a.*', 'a.b', '*']) subscriptions.remove(pattern)
  subscriptions.dispatch(event, (err) => { throw err })
  t.equal(calls, 1, 'no call once every pattern is gone')
})
