import { readFileSync } from 'node:fs'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { startGatewayProcess } from '../../harness/process.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs } from '../helpers/client.js'
import { post, startGateway } from '../helpers/gateway.js'
import { postHead, RawClient } from '../helpers/raw.js'
import { within } from '../helpers/within.js'

const MiB = 2 ** 20
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`

/** Resident memory of a process, in bytes. */
function rss (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024
}

t.test('a POST without valid credentials is answered before its body is read', async (t) => {
  const gw = await startGateway(t)
  const cases: Array<[string, string, Record<string, string>, number]> = [
    ['no token', '/events', {}, 401],
    ['a forged token', '/events', { authorization: 'Bearer not.a.jwt' }, 401],
    ['a token without the right', '/events', { authorization: `Bearer ${userToken('alice')}` }, 403],
    ['no token, notifications', '/notifications', {}, 401],
    ['no token, revocation', '/sessions/s-1/revoke', {}, 401],
    ['no token, ticket', '/ws/ticket', {}, 401]
  ]
  // None of the body is sent: the answer cannot wait for it. Past the body limit, and under it.
  for (const length of [10_000_000, 512 * 1024]) {
    for (const [name, path, headers, status] of cases) {
      const raw = await RawClient.open(t, gw.url)
      raw.write(postHead(path, length, headers))
      t.equal(await raw.status(2000), status, `${name}, ${length} bytes announced`)
      await within(raw.closed, 2000, `the connection of "${name}" to be closed after its answer, its body unread`)
    }
  }
})

t.test('stalled uploads with a valid token are closed at HTTP_REQUEST_TIMEOUT, and what they held is let go', async (t) => {
  const gw = await startGatewayProcess(t, { HTTP_REQUEST_TIMEOUT: '1000' })
  const pid = gw.child.pid ?? 0
  const UPLOADS = 300
  const SENT = 256 * 1024
  // Under the 1 MiB body limit, so only the timeout can end them; JSON that never closes.
  const head = postHead('/events', MiB - 1, { authorization: `Bearer ${serviceToken()}` })
  const body = Buffer.from(`{"type":"a.b","data":{"x":"${'x'.repeat(SENT)}`)
  const baseline = rss(pid)
  const after: number[] = []
  const WAVES = 10
  for (let wave = 0; wave < WAVES; wave++) {
    const uploads = await Promise.all(Array.from({ length: UPLOADS }, async () => await RawClient.open(t, gw.url)))
    for (const upload of uploads) upload.write(head + body.toString('latin1'))
    const started = Date.now()
    await within(Promise.all(uploads.map(async (u) => await u.closed)), 15_000, `the ${UPLOADS} stalled uploads of wave ${wave} to be closed`)
    t.ok(Date.now() - started < 10_000, `wave ${wave} closed after ${Date.now() - started} ms`)
    t.match(uploads[0]?.received.toString('latin1'), /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout')
    after.push(rss(pid))
  }
  const wave = UPLOADS * SENT
  t.comment(`RSS ${mib(baseline)} before; after each wave of ${UPLOADS} × ${SENT / 1024} KiB stalled uploads (${mib(wave)}): ${after.map(mib).join(', ')}`)
  // The heap grows to hold a wave or two and is reused by the next: what was let go is not held.
  t.ok(Math.max(...after) - baseline < 3 * wave, `RSS at most ${mib(Math.max(...after) - baseline)} above where it started, after ${mib(WAVES * wave)} sent`)
  // Each sample falls before or after a collection: on Node 24 successive ones differ by up to a
  // wave, a few waves apart. What a leak lifts is the peaks, so the halves' highest are compared.
  const growth = Math.max(...after.slice(WAVES / 2)) - Math.max(...after.slice(0, WAVES / 2))
  t.ok(growth < 32 * MiB, `RSS peaks grew ${mib(growth)} from the first ${WAVES / 2} waves to the last ${WAVES / 2}`)
})

t.test('a connection that sends nothing, or never finishes its headers, is closed after HTTP_IDLE_TIMEOUT', async (t) => {
  const gw = await startGateway(t, { HTTP_IDLE_TIMEOUT: '500' })
  const silent = await RawClient.open(t, gw.url)
  const halfHead = await RawClient.open(t, gw.url)
  halfHead.write('GET /ws/events HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\n')
  const opened = Date.now()
  await within(Promise.all([silent.closed, halfHead.closed]), 5000, 'the idle connections to be closed')
  t.ok(Date.now() - opened >= 400, `closed after ${Date.now() - opened} ms, not before the timeout`)
  t.equal(silent.received.length, 0, 'without a word')
  t.equal((await post(`${gw.url}/events`, { type: 'a.b' }, serviceToken())).status, 202, 'a client that talks is served')
})

t.test('an upgraded WebSocket outlives every HTTP timeout and keeps receiving events', async (t) => {
  // The request timeout first, so the stalled upload is answered 408 before it counts as idle.
  const gw = await startGateway(t, { HTTP_REQUEST_TIMEOUT: '200', HTTP_IDLE_TIMEOUT: '400' })
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('a.*')
  // Opened after the socket: once the server has closed both, each timeout has passed the socket by.
  const idle = await RawClient.open(t, gw.url)
  const stalled = await RawClient.open(t, gw.url)
  stalled.write(postHead('/events', 100, { authorization: `Bearer ${serviceToken()}` }))
  await within(Promise.all([idle.closed, stalled.closed]), 5000, 'the idle and the stalled connections to be closed')
  t.match(stalled.received.toString('latin1'), /^HTTP\/1\.1 408 /)
  t.equal(alice.socket.readyState, alice.socket.OPEN, 'the socket is still open')
  t.equal((await post(`${gw.url}/events`, { type: 'a.b', data: { n: 1 } }, serviceToken())).status, 202)
  const [event] = await alice.events(1)
  t.match(event, { type: 'a.b', data: { n: 1 } }, 'and receives events')
})

t.test('HTTP_MAX_CONNECTIONS refuses connections beyond the cap, WebSockets included', async (t) => {
  const gw = await startGateway(t, { HTTP_MAX_CONNECTIONS: '5', WEBSOCKET_MAX_CONNECTIONS: '2' })
  await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  const health = 'GET /ws/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'
  const held: RawClient[] = []
  for (let i = 0; i < 3; i++) {
    const raw = await RawClient.open(t, gw.url)
    raw.write(health)
    t.equal(await raw.status(2000), 200, `connection ${i + 3} is served`)
    held.push(raw)
  }
  const refused = await RawClient.open(t, gw.url)
  refused.write(health)
  await within(refused.closed, 2000, 'the sixth connection to be closed')
  t.equal(refused.received.length, 0, 'the sixth is closed unanswered')
  held[0]?.socket.destroy()
  await until(async () => {
    const raw = await RawClient.open(t, gw.url)
    raw.write(health)
    return await raw.status(1000).then((status) => status === 200, () => false)
  }, 5000, 'a freed place to be taken')
  t.pass('a place freed is taken again')
})
