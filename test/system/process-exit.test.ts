import { spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { performance } from 'node:perf_hooks'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { startGatewayProcess } from '../../harness/process.js'
import { serviceToken, TEST_SECRET } from '../../harness/tokens.js'
import { within } from '../helpers/within.js'

const ORPHAN_GUARD = new URL('../../harness/orphan-guard.ts', import.meta.url).href

/** Runs `server.ts` as `npm start` would until it exits, keeping stdout and stderr apart. */
async function runToExit (env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', ORPHAN_GUARD, 'server.ts'], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', JWT_SECRET: TEST_SECRET, ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await within(new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c))), 20_000, 'the exit')
  return { code, stdout, stderr }
}

t.test('a port already in use: one line on stderr naming PORT, no stack, exit 1', async (t) => {
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { holder.close() })
  const address = holder.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const { code, stderr } = await runToExit({ PORT: String(port), HOST: '127.0.0.1' })
  t.equal(code, 1)
  t.equal(stderr, `eventgate: cannot listen: port ${port} on 127.0.0.1 is already in use: set PORT to a free port, or stop what holds it\n`)
})

t.test('a HOST that is no address of this machine: one line on stderr naming HOST, exit 1', async (t) => {
  // 192.0.2.0/24 is reserved for documentation: no machine has it.
  const { code, stderr } = await runToExit({ PORT: '0', HOST: '192.0.2.1' })
  t.equal(code, 1)
  t.equal(stderr, 'eventgate: cannot listen: HOST=192.0.2.1 is not an address of this machine: set HOST to one of its addresses, or to 0.0.0.0 for every interface\n')
})

t.test('a second signal during the shutdown ends the process at once with 1', async (t) => {
  // A long SHUTDOWN_TIMEOUT and a publish whose body never ends: the first signal's close waits.
  const gw = await startGatewayProcess(t, { SHUTDOWN_TIMEOUT: '60000' })
  const socket = connect(Number(new URL(gw.url).port), '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  socket.on('error', () => {})
  socket.write(`POST /events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${serviceToken()}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{`)
  await until(() => /"url":"\/events"/.test(gw.output()), 5000, 'the request to arrive')
  gw.child.kill('SIGTERM')
  await until(() => /draining: health answers 503/.test(gw.output()), 5000, 'the drain')
  const signalledAt = performance.now()
  t.equal(await within(gw.kill('SIGINT'), 5000, 'the exit'), 1)
  t.ok(performance.now() - signalledAt < 5000, 'at once, not after SHUTDOWN_TIMEOUT')
  t.match(gw.output(), /"signal":"SIGINT","msg":"second signal: exiting at once"/)
})
