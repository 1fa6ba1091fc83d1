import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createConnection } from 'node:net'
import t from 'tap'
import { connectAs } from './helpers/client.js'
import { startGateway } from './helpers/gateway.js'
import { freePort, listenable } from './helpers/ports.js'
import { serviceToken, TEST_SECRET, userToken } from './helpers/tokens.js'
import { within } from './helpers/within.js'

/** The environment scripts get: the test's key, nothing of this process's own. */
const ENV = { PATH: process.env.PATH ?? '', NODE_ENV: 'test', JWT_SECRET: TEST_SECRET }

interface Run { code: number | null, stdout: string, stderr: string }

/** Runs a command to its end, within `timeoutMs`. */
async function run (command: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  const child = spawn(command, args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), timeoutMs, `${command} ${args.join(' ')}`)
    .finally(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { code, stdout, stderr }
}

const script = async (name: string, args: string[]): Promise<Run> => await run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args])

/** Whether something listens on the port. */
async function listening (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** Two consecutive free ports: the OS picks the first, the second is checked. */
/** Two consecutive free ports (see `freePort`). */
async function portPair (): Promise<number> {
  for (;;) {
    const port = await freePort()
    if (await listenable(port + 1)) return port
  }
}

t.test('every script answers --help through npm with its usage, exit 0', async (t) => {
  for (const name of ['token', 'publish-event', 'cluster']) {
    const { code, stdout } = await run('npm', ['run', '-s', name, '--', '--help'])
    t.equal(code, 0, `${name} --help`)
    t.match(stdout, `Usage: npm run ${name} -- `, `${name} prints its usage`)
  }
})

t.test('publish-event publishes with a service token it mints, and the event arrives on a WebSocket', async (t) => {
  const gw = await startGateway(t)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  t.equal((await alice.subscribe('authentication.*')).type, 'subscribed')

  const one = await script('publish-event', ['--url', gw.url, '--type', 'authentication.login.success', '--user', 'alice', '--data', '{"ip":"1.2.3.4"}'])
  t.equal(one.code, 0, one.stderr)
  const [event] = await alice.events(1)
  t.match(event, { id: one.stdout.trim(), type: 'authentication.login.success', userId: 'alice', data: { ip: '1.2.3.4' } })

  const many = await script('publish-event', ['--url', gw.url, '--type', 'authentication.logout', '--user', 'alice', '--count', '3', '--rate', '50'])
  t.equal(many.code, 0, many.stderr)
  t.same((await alice.events(3)).map((e) => e.id), many.stdout.trim().split('\n'), 'one id a line, in order')
  t.match(many.stderr, /published 3 authentication\.logout events/)

  const withToken = await script('publish-event', ['--url', gw.url, '--type', 'authentication.logout', '--token', serviceToken('risk-engine')])
  t.equal(withToken.code, 0, 'an explicit --token')
  const refused = await script('publish-event', ['--url', gw.url, '--type', 'authentication.logout', '--token', userToken('bob')])
  t.equal(refused.code, 1, 'a token without the right to publish')
  t.match(refused.stderr, /403 .*EVENTGATE_FORBIDDEN/)
  t.equal((await script('publish-event', ['--url', gw.url, '--type', 'a.b', '--data', '[1]'])).code, 2, '--data must be an object')
})

t.test('cluster starts Redis and two instances that share events, and stops cleanly on SIGINT', async (t) => {
  const basePort = await portPair()
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts', '--instances', '2', '--base-port', String(basePort)], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  let output = ''
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ctrl-C stops them all')) resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => reject(new Error(`cluster exited with ${String(code)}:\n${output}`)))
  })
  await within(started, 60_000, 'the cluster to start')
  const [first, second] = [basePort, basePort + 1].map((port) => `127.0.0.1:${port}`) as [string, string]
  t.match(output, `eg-1  http://${first}  ws://${first}/ws/events  dashboard http://${first}/dashboard`)
  t.match(output, `eg-2  http://${second}`)
  const redisPort = Number(/on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1])
  const dir = /\(data in ([^)]+)\)/.exec(output)?.[1] ?? ''
  t.ok(await listening(redisPort), 'its own redis-server')
  t.ok(existsSync(dir), 'in a temporary directory')

  const bob = await connectAs(t, `ws://${second}/ws/events`, userToken('bob'))
  t.equal((await bob.subscribe('session.*')).type, 'subscribed')
  const published = await script('publish-event', ['--url', `http://${first}`, '--type', 'session.created', '--user', 'bob'])
  t.equal(published.code, 0, published.stderr)
  t.match((await bob.events(1))[0], { id: published.stdout.trim(), type: 'session.created' }, 'published on eg-1, received on eg-2')

  child.kill('SIGINT')
  t.equal((await bob.closed).code, 1001, 'the instances drain')
  t.equal(await within(exited, 30_000, 'the cluster to stop'), 0, 'exit 0')
  t.match(output, 'cluster stopped')
  t.notOk(await listening(basePort) || await listening(basePort + 1), 'the instances are gone')
  t.notOk(await listening(redisPort), 'Redis is gone')
  t.notOk(existsSync(dir), 'its directory removed')
})
