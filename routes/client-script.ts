import type { FastifyInstance } from 'fastify'
import { script, sendAsset } from './assets.js'

/**
 * GET /client.js: the client SDK as one ES module, for pages without a bundler
 * (`import { createClient } from 'https://gateway/client.js'`). It holds no secret; a page on
 * another origin loads it as a module script, which needs CORS, so it follows ALLOWED_ORIGINS
 * like the rest of the HTTP API: an origin that may not call the gateway has no use for it.
 */
export default async function clientScriptRoute (app: FastifyInstance) {
  const file = script('client', new URL('../browser/client.js', import.meta.url))
  app.get('/client.js', {
    schema: {
      tags: ['websocket'],
      summary: 'The client SDK as one ES module',
      description: 'No authentication. `@eventgate/client` bundled for pages without a bundler: `import { createClient } from \'<gateway>/client.js\'`. Revalidated with its ETag.',
      security: []
    }
  }, async (request, reply) => await sendAsset(request, reply, await file()))
}
