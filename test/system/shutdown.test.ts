import { request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { startGatewayProcess } from '../../harness/process.js'
import { RedisServer } from '../../harness/redis.js'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { connectAs, refusedUpgrade, type TestClient } from '../helpers/client.js'
import { get } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/** The client's TCP socket stops being read: the server's close frame waits in the kernel, unanswered. */
function stopReading (client: TestClient): Socket {
  const socket = (client.socket as unknown as { _socket: Socket })._socket
  socket.pause()
  return socket
}

interface Poll { sentAt: number, status: number | 'refused', draining?: unknown }

/** Polls /ws/health back to back until `stop()` or the first refused connection. */
function pollHealth (url: string) {
  const polls: Poll[] = []
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      const sentAt = performance.now()
      try {
        const response = await fetch(`${url}/ws/health`)
        const body = await response.json() as { draining?: unknown }
        polls.push({ sentAt, status: response.status, draining: body.draining })
      } catch {
        polls.push({ sentAt, status: 'refused' })
        return
      }
    }
  })()
  return { polls, stop: async () => { stopped = true; await done } }
}

/** The position of the first line of `output` that matches, or -1. */
function lineOf (output: string, pattern: RegExp): number {
  return output.split('\n').findIndex((line) => pattern.test(line))
}

t.test('SIGTERM: health turns 503 before the first socket closes, upgrades and publishes are refused, every socket gets 1001, exit 0', async (t) => {
  const gw = await startGatewayProcess(t, { SHUTDOWN_TIMEOUT: '5000' })
  const clients = [
    ...await Promise.all(['alice', 'bob', 'carol'].map(async (user) => await connectAs(t, `${gw.wsUrl}/ws/events`, userToken(user)))),
    await connectAs(t, `${gw.wsUrl}/ws/admin`, adminToken())
  ]
  // Does not answer its close frame until it reads again: the drain stays open meanwhile.
  const holdout = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('dave'))
  const holdoutSocket = stopReading(holdout)
  const before = await get(`${gw.url}/ws/health`)
  t.equal(before.status, 200)
  t.match(before.body, { healthy: true, draining: false })

  let firstCloseAt = Number.POSITIVE_INFINITY
  for (const client of clients) void client.closed.then(() => { firstCloseAt = Math.min(firstCloseAt, performance.now()) })
  const poller = pollHealth(gw.url)
  await until(() => poller.polls.length > 0, 5000, 'the first poll')
  const signalledAt = performance.now()
  const exited = gw.kill('SIGTERM')

  const closes = await within(Promise.all(clients.map(async (c) => await c.closed)), 5000, 'every client closed')
  for (const close of closes) t.same(close, { code: 1001, reason: 'server_shutting_down' })

  // The holdout keeps the listener open: whatever reaches the gateway now is answered.
  const health = await get(`${gw.url}/ws/health`)
  t.equal(health.status, 503, 'health after the first close')
  t.match(health.body, { healthy: false, draining: true })
  const upgrade = await refusedUpgrade(`${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('erin')}` } })
  t.equal(upgrade.status, 503, 'an upgrade is refused before any socket exists')
  t.equal(upgrade.retryAfter, '1')
  t.same(JSON.parse(upgrade.body), { statusCode: 503, code: 'EVENTGATE_DRAINING', error: 'Service Unavailable', message: 'this instance is shutting down; retry on another' })
  const publish = await fetch(`${gw.url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'system.notice' })
  })
  t.equal(publish.status, 503, 'a new publish is refused')
  t.equal(publish.headers.get('retry-after'), '1')
  t.match(await publish.json(), { code: 'EVENTGATE_DRAINING' })

  holdoutSocket.resume()
  t.same(await within(holdout.closed, 5000, 'the holdout closed'), { code: 1001, reason: 'server_shutting_down' })
  t.equal(await within(exited, 5000, 'the exit'), 0, 'exits 0')
  t.ok(performance.now() - signalledAt < 5000, 'within SHUTDOWN_TIMEOUT')
  await poller.stop()

  // Ordering, seen from outside: no poll sent after a client had its 1001 was answered 200.
  const late = poller.polls.filter((p) => p.sentAt > firstCloseAt)
  t.ok(late.length > 0, 'polls were sent after the first close')
  t.same(late.filter((p) => p.status === 200), [], 'health never said healthy once a client had been closed')
  t.ok(late.some((p) => p.status === 503 && p.draining === true), 'the poller saw 503 draining')
  // And from inside, in the gateway's own log order.
  const output = gw.output()
  const drainingAt = lineOf(output, /draining: health answers 503/)
  const closingAt = lineOf(output, /closing every socket 1001/)
  const firstClosed = lineOf(output, /"connection closed"/)
  t.ok(drainingAt !== -1 && drainingAt < closingAt, 'health flipped before the hub closed its sockets')
  t.ok(closingAt < firstClosed, 'before the first connection closed')
})

t.test('a publish in flight when shutdown starts completes with 202', async (t) => {
  const gw = await startGatewayProcess(t, { SHUTDOWN_TIMEOUT: '5000' })
  const body = Buffer.from(JSON.stringify({ type: 'system.maintenance', data: { note: 'x'.repeat(2000) } }))
  const { port } = new URL(gw.url)
  const response = new Promise<{ status: number, connection: string | undefined, body: string }>((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/events',
      headers: { authorization: `Bearer ${serviceToken()}`, 'content-type': 'application/json', 'content-length': body.length }
    }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }) })
    })
    request.on('error', reject)
    request.write(body.subarray(0, 100))
    // Sent once the gateway is draining: the request started before, its body ends after.
    void until(() => /draining: health answers 503/.test(gw.output()), 5000, 'the drain')
      .then(() => request.end(body.subarray(100)), reject)
  })
  // The request line is logged once its headers are in, before any hook runs.
  await until(() => /"url":"\/events"/.test(gw.output()), 5000, 'the request to arrive')
  const exited = gw.kill('SIGTERM')
  const answer = await within(response, 5000, 'the answer')
  t.equal(answer.status, 202)
  t.match(JSON.parse(answer.body), { ids: [/^\d+-\d+$/] })
  t.equal(answer.connection, 'close', 'the connection closes with the answer')
  t.equal(await within(exited, 5000, 'the exit'), 0)
})

t.test('with Redis, the registry entry is gone by the time the process has exited', async (t) => {
  const redis = await RedisServer.start(t)
  const leaving = await startGatewayProcess(t, { REDIS_URL: redis.url, SERVER_ID: 'eg-leaving' })
  const staying = await startGatewayProcess(t, { REDIS_URL: redis.url, SERVER_ID: 'eg-staying' })
  const stats = async () => (await get(`${staying.url}/ws/stats`, adminToken())).body as { global: { totalServers: number, servers: Array<{ serverId: string }> } }
  await until(async () => (await stats()).global.totalServers === 2, 5000, 'both instances registered')
  const signalledAt = performance.now()
  t.equal(await within(leaving.kill('SIGTERM'), 5000, 'the exit'), 0)
  t.comment(`SIGTERM to exit: ${Math.round(performance.now() - signalledAt)} ms`)
  const after = await stats()
  t.equal(after.global.totalServers, 1, 'counted no more, well before the 15 s TTL')
  t.same(after.global.servers.map((s) => s.serverId), ['eg-staying'])
})

t.test('a client that never answers its close is terminated after half of SHUTDOWN_TIMEOUT, and the exit is clean', async (t) => {
  const gw = await startGatewayProcess(t, { SHUTDOWN_TIMEOUT: '2000' })
  // Never answers its close frame: ws would wait 30 s for it before dropping the connection.
  const silent = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  stopReading(silent)
  const signalledAt = performance.now()
  const code = await within(gw.kill('SIGTERM'), 5000, 'the exit')
  const elapsed = performance.now() - signalledAt
  t.equal(code, 0)
  t.ok(elapsed >= 1000 && elapsed < 2000, `after the grace, within SHUTDOWN_TIMEOUT (${Math.round(elapsed)} ms)`)
  t.match(gw.output(), /"connections":1,"msg":"sockets did not answer the close in time, terminating"/)
})

t.test('a shutdown that hangs past SHUTDOWN_TIMEOUT exits 1', async (t) => {
  const gw = await startGatewayProcess(t, { SHUTDOWN_TIMEOUT: '500' })
  // A publish whose body never finishes arriving: the server cannot close until it ends.
  const { port } = new URL(gw.url)
  const request = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/events',
    headers: { authorization: `Bearer ${serviceToken()}`, 'content-type': 'application/json', 'content-length': 1000 }
  })
  request.on('error', () => {})
  t.teardown(() => { request.destroy() })
  request.write('{"type":')
  await until(() => /"url":"\/events"/.test(gw.output()), 5000, 'the request to arrive')
  const signalledAt = performance.now()
  const code = await within(gw.kill('SIGTERM'), 5000, 'the exit')
  const elapsed = performance.now() - signalledAt
  t.equal(code, 1)
  t.ok(elapsed >= 500, `not before the timeout (${Math.round(elapsed)} ms)`)
  t.ok(elapsed < 3000, `soon after it (${Math.round(elapsed)} ms)`)
  t.match(gw.output(), /"timeoutMs":500,"msg":"shutdown timed out"/)
})
