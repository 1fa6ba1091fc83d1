import t from 'tap'
import { startGateway } from '../helpers/gateway.js'

t.test('GET /client.js: the SDK as one ES module, without a token, revalidated by its ETag', async (t) => {
  const gw = await startGateway(t)
  const response = await fetch(`${gw.url}/client.js`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/javascript; charset=utf-8/)
  t.equal(response.headers.get('cache-control'), 'no-cache')
  t.equal(response.headers.get('x-content-type-options'), 'nosniff')
  const code = await response.text()
  t.notMatch(code, /^\s*import\s|\bimport\s*[{*]|\bfrom\s*["']/m, 'one bundle: nothing left to import')

  const module = await import(`data:text/javascript,${encodeURIComponent(code)}`) as Record<string, unknown>
  t.equal(typeof module.createClient, 'function', 'exports createClient')
  t.equal(typeof module.EventgateError, 'function', 'and the error class')

  const again = await fetch(`${gw.url}/client.js`, { headers: { 'if-none-match': response.headers.get('etag') ?? '' } })
  t.equal(again.status, 304, 'bundled once, then served from memory under the same ETag')
})

t.test('a page on another origin may load it only where ALLOWED_ORIGINS lets it call the gateway', async (t) => {
  const gw = await startGateway(t, { ALLOWED_ORIGINS: 'https://app.example.com' })
  const allowed = await fetch(`${gw.url}/client.js`, { headers: { origin: 'https://app.example.com' } })
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com')
  const other = await fetch(`${gw.url}/client.js`, { headers: { origin: 'https://evil.example.net' } })
  t.equal(other.status, 200)
  t.equal(other.headers.get('access-control-allow-origin'), null, 'a browser refuses the module to that page')
})

t.test('the OpenAPI document lists GET /client.js, open without a token', async (t) => {
  const gw = await startGateway(t)
  const openapi = await (await fetch(`${gw.url}/docs/json`)).json() as { paths: Record<string, { get?: { security?: unknown[] } }> }
  t.same(openapi.paths['/client.js']?.get?.security, [])
})
