import { randomUUID } from 'node:crypto'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { asset, sendAsset } from './assets.js'
import { dashboardFiles } from './dashboard-assets.js'
import { Id } from './schemas.js'

/**
 * Events carry attacker-influenced text: the page runs only its own script (no inline script,
 * no eval), talks only to this origin (`'self'` covers ws:/wss: of the same host), and cannot
 * be framed.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** Dev tokens live as long as `npm run token` makes them by default. */
const DEV_TOKEN_TTL_SECONDS = 3600

const DevTokenBody = Type.Object({
  sub: Id,
  roles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 8 }))
}, { additionalProperties: false })

const DevToken = Type.Object({ token: Type.String(), expiresAt: Type.String() })

/**
 * GET /dashboard: a live view of the event streams, served by the gateway itself. The page and
 * its stylesheet are read at start; the script (the dashboard and the client SDK) comes bundled
 * from `npm run build` (see assets.ts). In development, POST /dashboard/dev-token
 * signs tokens with the public development key, which anyone can do anyway.
 */
export default async function dashboardRoutes (app: FastifyInstance) {
  const { jwt } = app.config
  const { html, stylesheet, script } = dashboardFiles()
  // The page shows its dev-token form only when the gateway would accept what it mints.
  const page = jwt.development ? asset(html.body.toString().replace('<body>', '<body data-development>'), html.type) : html

  app.get('/dashboard', async (request, reply) => {
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
    return await sendAsset(request, reply, page)
  })
  app.get('/dashboard/dashboard.css', async (request, reply) => await sendAsset(request, reply, stylesheet))
  app.get('/dashboard/app.js', async (request, reply) => await sendAsset(request, reply, await script()))

  if (!jwt.development) return
  app.post<{ Body: Static<typeof DevTokenBody> }>('/dashboard/dev-token', {
    schema: { body: DevTokenBody, response: { 200: DevToken } }
  }, async (request, reply) => {
    const now = Math.floor(Date.now() / 1000)
    const { sub, roles = [] } = request.body
    const token = app.jwt.sign({
      sub,
      sid: `dev-${randomUUID()}`,
      ...(roles.length === 0 ? {} : { roles }),
      ...(jwt.issuer === undefined ? {} : { iss: jwt.issuer }),
      ...(jwt.audience === undefined ? {} : { aud: jwt.audience }),
      iat: now,
      exp: now + DEV_TOKEN_TTL_SECONDS
    })
    return await reply.header('cache-control', 'no-store')
      .send({ token, expiresAt: new Date((now + DEV_TOKEN_TTL_SECONDS) * 1000).toISOString() })
  })
}
