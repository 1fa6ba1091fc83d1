import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { packageVersion } from '../src/package-version.js'

/** Where a newcomer goes next, each a path on this gateway. */
const LINKS = {
  dashboard: '/dashboard',
  docs: '/docs',
  openapi: '/docs/json',
  asyncapi: '/asyncapi.json',
  livez: '/livez',
  readyz: '/readyz',
  health: '/ws/health'
} as const

const Index = Type.Object({
  name: Type.Literal('eventgate'),
  version: Type.String(),
  links: Type.Object(Object.fromEntries(Object.keys(LINKS).map((name) => [name, Type.String()])), { additionalProperties: false })
})

/**
 * GET /: a short JSON index instead of a 404, for whoever opens the gateway's address first.
 * JSON rather than a page: browsers show it readably, and curl and scripts read it as it is;
 * the dashboard is the page.
 */
export default async function indexRoute (app: FastifyInstance) {
  const index = { name: 'eventgate' as const, version: packageVersion(), links: LINKS }
  app.get('/', {
    schema: {
      tags: ['operations'],
      summary: 'What this gateway serves, and where',
      description: 'No authentication. The service name and version, and links to the dashboard, the API documents and the health probes.',
      security: [],
      response: { 200: { ...Index, description: 'The index' } }
    }
  }, async () => index)
}
