import t from 'tap'
import { serviceToken } from '../../harness/tokens.js'
import { post, startGateway } from '../helpers/gateway.js'

interface Operation {
  tags?: string[]
  summary?: string
  security?: Array<Record<string, string[]>>
  parameters?: Array<{ in: string, name: string }>
  requestBody?: { content: Record<string, { schema: Schema }> }
  responses: Record<string, { description: string, content?: Record<string, { schema: Schema }> }>
}
interface Schema {
  type?: string
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean
  pattern?: string
  else?: Schema
  then?: Schema
  enum?: unknown[]
  anyOf?: Schema[]
}
interface Document {
  openapi: string
  info: { title: string, version: string }
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, Record<string, string>> }
  security: Array<Record<string, string[]>>
}

const ROUTES = [
  'GET /', 'POST /events', 'POST /notifications', 'POST /ws/ticket', 'POST /sessions/{sessionId}/revoke',
  'POST /users/{userId}/revoke', 'GET /livez', 'GET /readyz', 'GET /ws/health', 'GET /ws/stats', 'GET /metrics', 'GET /ws/events', 'GET /ws/admin'
]

t.test('/docs/json is an OpenAPI 3.1 document of every HTTP route, WebSocket upgrades included', async (t) => {
  const gw = await startGateway(t)
  const response = await fetch(`${gw.url}/docs/json`)
  t.equal(response.status, 200)
  const doc = await response.json() as Document
  t.equal(doc.openapi, '3.1.0')
  t.equal(doc.info.title, 'eventgate')
  t.match(doc.info.version, /^\d+\.\d+\.\d+/)
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  t.same(doc.security, [{ bearerAuth: [] }], 'authenticated unless a route says otherwise; the cookie only on upgrades')

  for (const route of ROUTES) {
    const [method, path] = route.split(' ') as [string, string]
    const operation = doc.paths[path]?.[method.toLowerCase()]
    t.ok(operation, `${route} is documented`)
    if (operation === undefined) continue
    t.ok((operation.tags ?? []).length > 0 && (operation.summary ?? '') !== '', `${route} has tags and a summary`)
    t.ok(Object.keys(operation.responses).length > 0, `${route} documents its responses`)
  }
  for (const probe of ['/', '/livez', '/readyz', '/ws/health']) t.same(doc.paths[probe]?.get?.security, [], `${probe} needs no token`)
  t.same(doc.paths['/metrics']?.get?.security, [], 'metrics are open without METRICS_TOKEN')
  t.ok(doc.paths['/ws/events']?.get?.responses['101'], 'an upgrade answers 101')
  t.match(doc.paths['/sessions/{sessionId}/revoke']?.post?.parameters, [{ in: 'path', name: 'sessionId' }])
  t.match(doc.paths['/events']?.post?.parameters, [{ in: 'header', name: 'idempotency-key' }])
})

t.test('the documented request schema is the one that validates', async (t) => {
  const gw = await startGateway(t)
  const doc = await (await fetch(`${gw.url}/docs/json`)).json() as Document
  const publish = doc.paths['/events']?.post
  const body = publish?.requestBody?.content['application/json']?.schema
  const single = body?.else
  t.equal(single?.additionalProperties, false, 'unknown fields are refused, says the document')
  t.same(single?.required, ['type'])
  const pattern = new RegExp(single?.properties?.type?.pattern ?? '')
  t.notOk(pattern.test('Login Success'), 'a type the documented pattern forbids')

  const bearer = serviceToken()
  t.equal((await post(`${gw.url}/events`, { type: 'authentication.login.success', userId: 'alice' }, bearer)).status, 202, 'a body the document allows')
  t.match(await post(`${gw.url}/events`, { type: 'Login Success' }, bearer), { status: 400, body: { code: 'EVENTGATE_INVALID_BODY', field: 'type' } })
  t.match(await post(`${gw.url}/events`, { type: 'authentication.login.success', userID: 'alice' }, bearer), { status: 400, body: { field: 'userID' } })

  const error = publish?.responses['400']?.content?.['application/json']?.schema
  const refused = await post(`${gw.url}/events`, {}, bearer)
  t.same(Object.keys(refused.body).sort(), Object.keys(error?.properties ?? {}).sort(), 'the documented error body is the one sent')
  t.same(error?.required, ['statusCode', 'code', 'error', 'message'])

  const notification = doc.paths['/notifications']?.post?.requestBody?.content['application/json']?.schema
  t.same(notification?.properties?.level?.anyOf?.map((s) => (s as { const?: string, enum?: string[] }).const ?? s.enum?.[0]), ['info', 'warning', 'critical'])
  t.match(await post(`${gw.url}/notifications`, { level: 'debug', title: 't', message: 'm' }, bearer), { status: 400, body: { field: 'level' } })
})

t.test('/docs serves the UI under its own content security policy, with CORS and limits as before', async (t) => {
  const gw = await startGateway(t)
  const ui = await fetch(`${gw.url}/docs`)
  t.equal(ui.status, 200)
  t.match(ui.headers.get('content-type'), /^text\/html/)
  const csp = ui.headers.get('content-security-policy') ?? ''
  t.match(csp, /default-src 'self'/)
  t.notMatch(csp, /upgrade-insecure-requests/, 'usable on a plain-http development gateway')
  t.match(await ui.text(), /swagger/i)
  const css = await fetch(`${gw.url}/docs/static/swagger-ui.css`)
  t.equal(css.status, 200)
  await css.arrayBuffer()

  const foreign = await fetch(`${gw.url}/docs/json`, { headers: { origin: 'https://evil.example.net' } })
  t.equal(foreign.status, 200)
  t.equal(foreign.headers.get('access-control-allow-origin'), null, 'no CORS grant to an origin not allowed')
  await foreign.arrayBuffer()
  const api = await fetch(`${gw.url}/events`, { method: 'POST' })
  t.equal(api.headers.get('content-security-policy'), null, 'the API keeps its own headers')
  await api.arrayBuffer()
})
