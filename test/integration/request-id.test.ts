import t from 'tap'
import WebSocket from 'ws'
import { serviceToken } from '../../harness/tokens.js'
import { startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const FOREIGN_ORIGIN = 'https://elsewhere.example'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** The X-Request-Id of a refused upgrade's response (send a foreign origin to have it refused). */
async function upgradeRequestId (url: string, headers: Record<string, string>): Promise<string | string[] | undefined> {
  const socket = new WebSocket(url, { headers })
  socket.on('error', () => {})
  return await within(new Promise((resolve, reject) => {
    socket.on('unexpected-response', (_request, response) => {
      response.resume()
      resolve(response.headers['x-request-id'])
    })
    socket.on('open', () => {
      socket.terminate()
      reject(new Error('the upgrade was accepted'))
    })
  }), 5000, 'the refused upgrade')
}

t.test('a sane X-Request-Id is echoed on every response and names the request in the log', async (t) => {
  const gw = await startGateway(t, {}, { captureLogs: true })
  const answers = await Promise.all([
    fetch(`${gw.url}/ws/health`, { headers: { 'x-request-id': 'trace-health' } }),
    fetch(`${gw.url}/events`, { method: 'POST', headers: { 'x-request-id': 'trace-publish', authorization: `Bearer ${serviceToken()}`, 'content-type': 'application/json' }, body: '{"type":"system.notice"}' }),
    fetch(`${gw.url}/events`, { method: 'POST', headers: { 'x-request-id': 'trace-401', 'content-type': 'application/json' }, body: '{"type":"system.notice"}' }),
    fetch(`${gw.url}/events`, { method: 'POST', headers: { 'x-request-id': 'trace-400', authorization: `Bearer ${serviceToken()}`, 'content-type': 'application/json' }, body: '{"type":' }),
    fetch(`${gw.url}/nowhere`, { headers: { 'x-request-id': 'trace-404' } })
  ])
  t.same(answers.map((a) => a.status), [200, 202, 401, 400, 404])
  t.same(answers.map((a) => a.headers.get('x-request-id')), ['trace-health', 'trace-publish', 'trace-401', 'trace-400', 'trace-404'])
  t.equal(await upgradeRequestId(`${gw.wsUrl}/ws/events`, { 'x-request-id': 'trace-upgrade', origin: FOREIGN_ORIGIN }), 'trace-upgrade', 'a refused upgrade too')
  const publish = gw.logs.map((l) => JSON.parse(l) as { reqId?: string, msg?: string }).filter((l) => l.reqId === 'trace-publish')
  t.same(publish.map((l) => l.msg), ['incoming request', 'request completed'], 'the log lines of the request carry its id')
})

t.test('without a sane X-Request-Id each response carries a fresh UUID', async (t) => {
  const gw = await startGateway(t)
  const sent: Array<Record<string, string>> = [{}, { 'x-request-id': '' }, { 'x-request-id': 'x'.repeat(129) }, { 'x-request-id': 'two words' }]
  const ids = await Promise.all(sent.map(async (headers) => (await fetch(`${gw.url}/ws/health`, { headers })).headers.get('x-request-id')))
  for (const id of ids) t.match(id, UUID)
  t.equal(new Set(ids).size, ids.length, 'one per request')
  t.match(await upgradeRequestId(`${gw.wsUrl}/ws/events`, { origin: FOREIGN_ORIGIN }), UUID, 'a refused upgrade too')
})

t.test('browsers on an allowed origin may send the id and read it back', async (t) => {
  const gw = await startGateway(t, { ALLOWED_ORIGINS: 'https://app.example' })
  const preflight = await fetch(`${gw.url}/events`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-request-id' } })
  t.match(preflight.headers.get('access-control-allow-headers'), /X-Request-Id/)
  const answer = await fetch(`${gw.url}/ws/health`, { headers: { origin: 'https://app.example' } })
  t.equal(answer.headers.get('access-control-expose-headers'), 'X-Request-Id')
})

t.test('every log line names the instance', async (t) => {
  const gw = await startGateway(t, { SERVER_ID: 'eg-named' }, { captureLogs: true })
  await fetch(`${gw.url}/nowhere`)
  const lines = gw.logs.map((l) => JSON.parse(l) as { serverId?: string, msg?: string })
  t.ok(lines.length > 3, `${lines.length} lines`)
  t.same(lines.filter((l) => l.serverId !== 'eg-named').map((l) => l.msg), [], 'none without it')
})
