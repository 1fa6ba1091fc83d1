import fp from 'fastify-plugin'
import { CloseCode } from '../src/errors.js'
import { covers, revocationFrom } from '../src/revocations.js'

/**
 * On every instance: a revocation control event closes the sockets it covers with 4001
 * `session_revoked`. Only events the gateway marked `control` count, so publishing a
 * `session.revoked` event over HTTP closes nothing.
 */
export default fp(async function revocationEnforcementPlugin (app) {
  const { hub, revocations, security } = app
  const log = app.log.child({ component: 'revocations' })
  hub.onControl((event) => {
    const revocation = revocationFrom(event)
    if (revocation === undefined) {
      log.warn({ eventId: event.id, type: event.type }, 'ignored a control event that carries no revocation')
      return
    }
    revocations.remember(revocation)
    // A session's user is only a hint for addressing the event, so a session is looked for everywhere.
    const scope = revocation.sessionId === undefined ? revocation.userId : undefined
    const closed = hub.closeWhere((c) => covers(revocation, c.identity), CloseCode.UNAUTHORIZED, 'session_revoked', scope)
    const revokedAt = new Date(revocation.revokedAt).toISOString()
    for (const connection of closed) {
      const { userId, sessionId } = connection.identity
      security.report('security.connection.revoked', { reason: 'session_revoked', userId, sessionId, connectionId: connection.id, revokedAt, by: revocation.by })
    }
  })
}, { name: 'revocation-enforcement', dependencies: ['hub', 'revocations', 'security'] })
