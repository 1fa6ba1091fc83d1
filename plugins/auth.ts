import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { httpRefusal } from '../src/credentials.js'
import { GatewayError } from '../src/errors.js'
import type { Identity } from '../src/identity.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * HTTP routes, in `onRequest`: 401 without a valid token (429 when the token fails from a
     * blocked address), before any of the body is read.
     */
    authenticate: onRequestAsyncHookHandler
    /** HTTP routes, in `onRequest` after authenticate: 403 unless `allowed`, before the body is read. */
    authorize: (allowed: (identity: Identity) => boolean, message: string) => onRequestAsyncHookHandler
  }
}

/** Authentication and authorization of HTTP requests; upgrades have theirs in plugins/socket-auth.ts. */
export default fp(async function authPlugin (app) {
  app.decorate('authenticate', async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const result = await app.verifyRequest(request, false)
    if (!('identity' in result)) endAfterAnswer(reply)
    await app.auditAuthentication(request, reply, result)
    if (!('identity' in result)) throw httpRefusal(result.reason, request.headers.authorization)
    request.user = result.identity
  })

  app.decorate('authorize', (allowed: (identity: Identity) => boolean, message: string) =>
    async function authorize (request: FastifyRequest, reply: FastifyReply) {
      if (allowed(request.user)) return
      endAfterAnswer(reply)
      throw new GatewayError('EVENTGATE_FORBIDDEN', message)
    })
}, { name: 'auth', dependencies: ['credentials'] })

/**
 * HTTP routes refuse before the body is read; Node would then read and discard whatever body the
 * client still sends, up to HTTP_REQUEST_TIMEOUT, to reuse the connection. Closing it after the
 * answer costs the refused client a new connection instead of costing the gateway its upload.
 */
function endAfterAnswer (reply: FastifyReply): void {
  void reply.header('connection', 'close')
}
