import fastifyJwt from '@fastify/jwt'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type AuthenticationVia, type AuthFailure, countsAsFailure, Credentials, type Verdict } from '../src/credentials.js'
import type { Identity } from '../src/identity.js'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Record<string, unknown>
    user: Identity
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The credential `request` carries, verified (src/credentials.ts); cookies and tickets count on upgrades only. */
    verifyRequest: (request: FastifyRequest, upgrade: boolean) => Promise<Verdict>
    /**
     * The one verification of a JWT, as at connect: signature, pinned algorithm, claims,
     * revocation. Resolves with the identity or the refusal reason; sessions use it to reauthenticate.
     */
    verifyToken: (token: string) => Promise<Identity | string>
    /**
     * Audits a verdict. A credential that failed verification counts against the address, and
     * from a blocked address is refused 429 instead; a missing one guesses nothing and does not
     * count. The block is looked at only now: a valid token passes from any address.
     */
    auditAuthentication: (request: FastifyRequest, reply: FastifyReply, verdict: Verdict) => Promise<void>
    /** Calls `listener` after each verification: where, why it was refused if it was, and how long it took. */
    onAuthentication: (listener: AuthenticationListener) => void
  }
}

export type AuthenticationListener = (via: AuthenticationVia, refusal: AuthFailure | undefined, seconds: number) => void

/** @fastify/jwt on the configured key, and the verification of credentials that HTTP routes and upgrades share. */
export default fp(async function credentialsPlugin (app) {
  const { jwt } = app.config
  await app.register(fastifyJwt, {
    secret: jwt.algorithm === 'HS256' ? jwt.key : { public: jwt.key },
    verify: {
      // Pinned to the configured key's algorithm: no `none`, no HS256 signed with a public key.
      algorithms: [jwt.algorithm],
      ...(jwt.issuer === undefined ? {} : { allowedIss: jwt.issuer }),
      ...(jwt.audience === undefined ? {} : { allowedAud: jwt.audience }),
      cache: true
    }
  })
  if (jwt.development) {
    app.log.warn('no JWT_SECRET or JWT_PUBLIC_KEY: using the public development key; mint tokens with `npm run token`')
  }
  const credentials = new Credentials({ claims: (token) => app.jwt.verify(token), tickets: app.tickets, revocations: app.revocations, log: app.log })
  const listeners: AuthenticationListener[] = []
  app.decorate('onAuthentication', (listener: AuthenticationListener) => { listeners.push(listener) })
  const observed = (via: AuthenticationVia, started: number, verdict: Verdict): Verdict => {
    const seconds = (performance.now() - started) / 1000
    const refusal = 'identity' in verdict ? undefined : verdict.reason
    for (const listener of listeners) listener(via, refusal, seconds)
    return verdict
  }

  app.decorate('verifyRequest', async function verifyRequest (request: FastifyRequest, upgrade: boolean) {
    const started = performance.now()
    const { authorization, cookie } = request.headers
    return observed(upgrade ? 'upgrade' : 'http', started, await credentials.verdict({ authorization, cookie, url: request.url }, upgrade))
  })

  app.decorate('verifyToken', async function verifyToken (token: string) {
    const started = performance.now()
    const result = observed('reauthenticate', started, await credentials.token(token))
    return 'identity' in result ? result.identity : result.reason
  })

  app.decorate('auditAuthentication', async function auditAuthentication (request: FastifyRequest, reply: FastifyReply, result: Verdict) {
    const base = { route: request.routeOptions.url, ip: request.ip, userAgent: request.headers['user-agent'] }
    if ('identity' in result) {
      const { userId, sessionId } = result.identity
      app.security.report('security.auth.succeeded', { ...base, reason: 'valid_token', userId, sessionId })
      return
    }
    const { reason, detail, userId, sessionId } = result
    app.security.report('security.auth.failed', { ...base, reason, detail, userId, sessionId })
    if (countsAsFailure(reason)) await app.refuseAuthFailure(request, reply)
  })
}, { name: 'credentials', dependencies: ['config', 'security', 'auth-failures', 'tickets', 'revocations'] })
