import { performance } from 'node:perf_hooks'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { CLOSE_GRACE_MS } from '../../src/connection.js'
import { connectAs } from '../helpers/client.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'
import { RawClient } from '../helpers/raw-client.js'
import { within } from '../helpers/within.js'

/**
 * A socket the gateway has closed costs nothing more: what its client sends afterwards is not
 * read, and a client that never answers the close is terminated after CLOSE_GRACE_MS rather
 * than held for ws's close timeout (30 s).
 */

/** Frames a hostile client writes after its close: each used to be refused, audited and logged. */
const AFTER_CLOSE = 20_000

/** How long after the close frame the socket must be gone: the grace, and room for a loaded machine. */
const GONE_WITHIN_MS = CLOSE_GRACE_MS + 3000

interface LogLine { msg: string, audit?: string }

const linesSince = (gw: Gateway, from: number): LogLine[] => gw.logs.slice(from).map((l) => JSON.parse(l) as LogLine)

async function connected (client: RawClient): Promise<void> {
  await client.next((f) => f.opcode === 1 && f.text.startsWith('{"type":"connected"'))
}

t.test('after its 1008 a client that goes on sending is read no more, logged no more, and terminated', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_MESSAGE_BURST: '5', WEBSOCKET_MESSAGE_RATE: '0.1', WEBSOCKET_MESSAGE_ABUSE_LIMIT: '3' }, { captureLogs: true })
  const bystander = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  const abuser = await RawClient.connect(t, `${gw.wsUrl}/ws/events`, userToken('mallory'))
  await connected(abuser)
  for (let i = 0; i < 9; i++) abuser.send('{"type":"ping"}')
  t.match(await abuser.close(), { code: 1008, text: 'rate_limited' })
  const closedAt = performance.now()
  const linesAtClose = gw.logs.length

  for (let i = 0; i < AFTER_CLOSE; i++) abuser.send(`{"type":"ping","id":${i}}`)
  await within(abuser.gone, GONE_WITHIN_MS, 'the gateway to end the socket')
  const goneAfter = performance.now() - closedAt
  t.comment(`socket gone ${Math.round(goneAfter)} ms after its close frame (grace ${CLOSE_GRACE_MS} ms)`)
  await until(() => gw.app.hub.size === 1, 2000, 'the hub to let go of it')

  const after = linesSince(gw, linesAtClose)
  t.same(after.filter((l) => l.msg !== 'connection closed'), [], `${AFTER_CLOSE} frames after the close: no log line but the close`)
  const audits = gw.logs.map((l) => JSON.parse(l) as LogLine).filter((l) => l.audit === 'security.rate_limit.exceeded')
  t.equal(audits.length, 1, 'one audit record: the 1008 itself')
  t.equal(gw.app.refusedFrames, 3, 'only the frames before the close were refused')
  t.equal((await bystander.request('ping')).type, 'pong', 'the others are served')
})

t.test('a client closed 4001 that never answers is terminated after the grace, its late frames unread', async (t) => {
  const gw = await startGateway(t, {}, { captureLogs: true })
  const revoked = await RawClient.connect(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await connected(revoked)
  t.equal((await post(`${gw.url}/sessions/session-alice/revoke`, {}, serviceToken())).status, 202)
  t.match(await revoked.close(), { code: 4001, text: 'session_revoked' })
  const closedAt = performance.now()
  const linesAtClose = gw.logs.length

  // Past the burst and the abuse limit: read, these would be refused and the socket closed 1008.
  for (let i = 0; i < 500; i++) revoked.send(`{"type":"subscribe","id":${i},"payload":{"eventTypes":["a.*"]}}`)
  await within(revoked.gone, GONE_WITHIN_MS, 'the gateway to end the socket')
  const goneAfter = performance.now() - closedAt
  t.comment(`socket gone ${Math.round(goneAfter)} ms after its close frame (grace ${CLOSE_GRACE_MS} ms)`)
  await until(() => gw.app.hub.size === 0, 2000, 'the hub to let go of it')
  t.same(linesSince(gw, linesAtClose).filter((l) => l.msg !== 'connection closed'), [], 'no log line but the close')
  t.equal(gw.app.refusedFrames, 0)
})

t.test('a socket refused at its upgrade that never answers its close is terminated after the grace', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '1000' })
  const refused = await RawClient.connect(t, `${gw.wsUrl}/ws/events`, 'not-a-token')
  t.match(await refused.close(), { code: 4001, text: 'token_invalid' })
  const closedAt = performance.now()
  for (let i = 0; i < 500; i++) refused.send('{"type":"ping"}')
  await within(refused.gone, GONE_WITHIN_MS, 'the gateway to end the socket')
  t.comment(`socket gone ${Math.round(performance.now() - closedAt)} ms after its close frame`)
  await until(() => gw.app.websocketServer.clients.size === 0, 2000, 'the server to let go of it')
})
