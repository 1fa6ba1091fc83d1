import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bearerToken } from '../src/credentials.js'
import { GatewayError } from '../src/errors.js'
import { errorResponses } from './schemas.js'

/**
 * GET /metrics: Prometheus text format. With METRICS_TOKEN set it needs
 * `Authorization: Bearer <METRICS_TOKEN>`, and wrong tokens count as failed authentications.
 * It is open without one: outside production, or where METRICS_PUBLIC=true says only a private
 * network reaches the port (the configuration refuses production with neither).
 */
export default async function metricsRoute (app: FastifyInstance) {
  const { metricsToken } = app.config
  const expected = metricsToken === undefined ? undefined : digest(metricsToken)

  async function requireToken (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (expected === undefined) return
    const presented = bearerToken(request.headers.authorization)
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return
    const reason = presented === undefined ? 'token_missing' : 'token_invalid'
    app.security.report('security.auth.failed', { reason, detail: 'metrics token', route: '/metrics', ip: request.ip, userAgent: request.headers['user-agent'] })
    // A missing token guesses nothing: it does not count against the address.
    if (presented !== undefined) await app.refuseAuthFailure(request, reply)
    throw new GatewayError('EVENTGATE_UNAUTHORIZED', reason)
  }

  app.get('/metrics', {
    // Scraped every few seconds: a request line each time would drown the log.
    logLevel: 'warn',
    // A draining instance still reports how its drain goes.
    config: { servedWhileDraining: true },
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'This instance\'s metrics in the Prometheus text format (see docs/operations.md, Metrics). With METRICS_TOKEN set (required in production unless METRICS_PUBLIC=true), `Authorization: Bearer <METRICS_TOKEN>`.',
      security: expected === undefined ? [] : [{ metricsToken: [] }],
      response: {
        200: { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...(expected === undefined ? {} : errorResponses(401, 429))
      }
    },
    onRequest: requireToken
  }, async (_request, reply) => {
    const text = await app.metrics.metrics()
    return await reply.type(app.metrics.contentType).send(text)
  })
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
