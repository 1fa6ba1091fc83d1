import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { BusUnavailableError } from '../src/bus/bus.js'
import { canRevoke } from '../src/identity.js'
import { type Revocation, type RevocationTarget, revocationEvent } from '../src/revocations.js'
import { errorResponses, Id } from './schemas.js'

const SessionParams = Type.Object({ sessionId: Id })
const UserParams = Type.Object({ userId: Id })
const TokenParams = Type.Object({ jti: Id })
/** Optional: whose session it is, so the `session.revoked` event reaches their own dashboards. */
const SessionBody = Type.Unsafe<{ userId?: string } | null>({
  type: ['object', 'null'],
  properties: { userId: Id },
  additionalProperties: false
})
const Revoked = Type.Object({
  revoked: Type.Object({ tokenId: Type.Optional(Type.String()), sessionId: Type.Optional(Type.String()), userId: Type.Optional(Type.String()), revokedAt: Type.String() })
})

/**
 * POST /sessions/:sessionId/revoke, POST /users/:userId/revoke and POST /tokens/:jti/revoke,
 * for roles admin and service. Every instance closes the sockets the revocation covers (4001
 * `session_revoked`, `token_revoked` for one token), and what it covers cannot authenticate
 * again for REVOCATION_TTL: the session, the user's tokens issued before the revocation, or the
 * token. Answers 202 `{revoked: {tokenId | sessionId | userId, revokedAt}}`.
 */
export default async function sessionsRoutes (app: FastifyInstance) {
  const onRequest = [app.authenticate, app.authorize(canRevoke, 'revoking needs role admin or service')]

  app.post<{ Params: Static<typeof SessionParams>, Body: Static<typeof SessionBody> }>('/sessions/:sessionId/revoke', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke one session',
      description: 'Role `service` or `admin`. Every instance closes the session\'s sockets `4001 session_revoked`, and its tokens are refused for REVOCATION_TTL. The optional `userId` names whose session it is, so the `session.revoked` event reaches that user\'s own streams.',
      params: SessionParams,
      body: SessionBody,
      response: { 202: { ...Revoked, description: 'Revoked' }, ...errorResponses(400, 401, 403, 429, 503) }
    },
    onRequest
  }, async (request, reply) => await revoke({ sessionId: request.params.sessionId, userId: request.body?.userId }, request.user.userId, reply))

  app.post<{ Params: Static<typeof UserParams> }>('/users/:userId/revoke', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke every token of a user issued before now',
      description: 'Role `service` or `admin`. Every instance closes the user\'s sockets `4001 session_revoked`; tokens issued before `revokedAt` are refused for REVOCATION_TTL.',
      params: UserParams,
      response: { 202: { ...Revoked, description: 'Revoked' }, ...errorResponses(400, 401, 403, 429, 503) }
    },
    onRequest
  }, async (request, reply) => await revoke({ userId: request.params.userId }, request.user.userId, reply))

  app.post<{ Params: Static<typeof TokenParams> }>('/tokens/:jti/revoke', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke one token by its jti',
      description: 'Role `service` or `admin`. Every instance closes the sockets opened or reauthenticated with the token whose `jti` claim this is, `4001 token_revoked`, and the token is refused for REVOCATION_TTL; the user\'s other tokens, of the same session too, stand. A token without `jti` cannot be revoked alone: revoke its session or user.',
      params: TokenParams,
      response: { 202: { ...Revoked, description: 'Revoked' }, ...errorResponses(400, 401, 403, 429, 503) }
    },
    onRequest
  }, async (request, reply) => await revoke({ tokenId: request.params.jti }, request.user.userId, reply))

  async function revoke (target: RevocationTarget, by: string, reply: FastifyReply): Promise<FastifyReply> {
    // Written before the event goes out, so a socket the event misses cannot authenticate again.
    const revocation = await app.revocations.revoke(target, by).catch((err: unknown) => {
      throw new BusUnavailableError(`the shared store is unreachable: ${(err as Error).message}`)
    })
    const { tokenId, sessionId, userId } = revocation
    const revokedAt = new Date(revocation.revokedAt).toISOString()
    app.security.report('security.session.revoked', { reason: auditReason(revocation), tokenId, sessionId, userId, revokedAt, by })
    await app.publisher.publish([revocationEvent(revocation)])
    return await reply.code(202).send({
      revoked: { ...(tokenId === undefined ? {} : { tokenId }), ...(sessionId === undefined ? {} : { sessionId }), ...(userId === undefined ? {} : { userId }), revokedAt }
    })
  }
}

function auditReason ({ tokenId, sessionId }: Revocation): 'token_revoked' | 'session_revoked' | 'user_revoked' {
  if (tokenId !== undefined) return 'token_revoked'
  return sessionId === undefined ? 'user_revoked' : 'session_revoked'
}
