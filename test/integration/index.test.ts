import t from 'tap'
import { packageVersion } from '../../src/package-version.js'
import { startGateway } from '../helpers/gateway.js'

t.test('GET / names the service and links what a newcomer needs, each of which answers', async (t) => {
  const gw = await startGateway(t)
  const response = await fetch(gw.url)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^application\/json/)
  const index = await response.json() as { name: string, version: string, links: Record<string, string> }
  t.same(index, {
    name: 'eventgate',
    version: packageVersion(),
    links: {
      dashboard: '/dashboard',
      docs: '/docs',
      openapi: '/docs/json',
      asyncapi: '/asyncapi.json',
      livez: '/livez',
      readyz: '/readyz',
      health: '/ws/health'
    }
  })
  for (const [name, path] of Object.entries(index.links)) {
    const linked = await fetch(new URL(path, gw.url))
    await linked.arrayBuffer()
    t.equal(linked.status, 200, `${name}: ${path}`)
  }
})
