import t from 'tap'
import { severityOf } from '../../../dashboard/severity.js'

t.test('failures, blocks, lockouts and revocations are alerts', async (t) => {
  for (const type of ['security.auth.failed', 'authentication.login.failed', 'security.session.revoked', 'security.connection.revoked', 'authentication.account.locked', 'security.rate_limit.exceeded', 'security.origin.rejected', 'security.subscription.forbidden', 'security.bruteforce.detected', 'firewall.address.blocked', 'system.redis.lost']) {
    t.equal(severityOf(type), 'alert', type)
  }
})

t.test('successes are routine, whatever their namespace', async (t) => {
  for (const type of ['security.auth.succeeded', 'authentication.login.success', 'session.created', 'system.instance.started', 'system.redis.recovered', 'authentication.token.refresh']) {
    t.equal(severityOf(type), 'ok', type)
  }
})

t.test('expiries and limits warn; anything else is information', async (t) => {
  t.equal(severityOf('session.expired'), 'warn')
  t.equal(severityOf('session.concurrent_limit'), 'warn')
  t.equal(severityOf('system.instance.draining'), 'warn')
  t.equal(severityOf('orders.shipped'), 'info')
  t.equal(severityOf('incident.updated'), 'info')
})

t.test('the reason counts, and the worst word wins', async (t) => {
  t.equal(severityOf('security.notice', 'token_invalid'), 'alert', 'a reason of failure')
  t.equal(severityOf('session.created', 'connected'), 'ok')
  t.equal(severityOf('authentication.login.success', 'repeated'), 'warn', 'a warning outranks a success')
  t.equal(severityOf('authentication.login', 42), 'info', 'a reason that is not text is ignored')
  t.equal(severityOf('Security.Auth.FAILED'), 'alert', 'case does not matter')
})
