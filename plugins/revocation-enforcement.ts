import fp from 'fastify-plugin'
import { CloseCode } from '../src/errors.js'
import { covers, revocationFrom, revokedReason } from '../src/revocations.js'

/**
 * On every instance: a revocation control event closes the sockets it covers with 4001
 * `session_revoked`, or `token_revoked` for one token. Only events the gateway marked `control` count, so publishing a
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
    // A session's user is only a hint for addressing the event, and a token's is not known, so
    // both are looked for everywhere.
    const { tokenId, by } = revocation
    const scope = revocation.sessionId === undefined && tokenId === undefined ? revocation.userId : undefined
    const reason = revokedReason(revocation)
    const closed = hub.closeWhere((c) => covers(revocation, c.identity), CloseCode.UNAUTHORIZED, reason, scope)
    const revokedAt = new Date(revocation.revokedAt).toISOString()
    for (const connection of closed) {
      const { userId, sessionId } = connection.identity
      security.report('security.connection.revoked', { reason, userId, sessionId, ...(tokenId === undefined ? {} : { tokenId }), connectionId: connection.id, revokedAt, by })
    }
  })
}, { name: 'revocation-enforcement', dependencies: ['hub', 'revocations', 'security'] })
