import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import { createVerifier } from 'fast-jwt'
import t, { type Test } from 'tap'
import { freePort, listenable } from '../../harness/ports.js'
import { ask } from '../../harness/redis-cluster.js'
import { serviceToken, TEST_SECRET, userToken } from '../../harness/tokens.js'
import { DEV_JWT_SECRET } from '../../src/config.js'
import { connectAs } from '../helpers/client.js'
import { startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/** The environment scripts get: the test's key, nothing of this process's own. */
const ENV = { PATH: process.env.PATH ?? '', NODE_ENV: 'test', JWT_SECRET: TEST_SECRET }

interface Run { code: number | null, stdout: string, stderr: string }

/** Runs a command to its end, within `timeoutMs`, with `env` over the scripts' environment. */
async function run (command: string, args: string[], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(command, args, { env: { ...ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), timeoutMs, `${command} ${args.join(' ')}`)
    .finally(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { code, stdout, stderr }
}

/** The redis-server processes whose title names one of `ports` (redis-server shows `<host>:<port>`). */
async function redisServersOn (ports: readonly number[]): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'args'])
  return stdout.split('\n').filter((line) => ports.some((port) => line.startsWith(`redis-server 127.0.0.1:${port} `)))
}

const script = async (name: string, args: string[], env: Record<string, string> = {}): Promise<Run> =>
  await run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], 30_000, env)

/** The claims of a JWT, unverified. */
const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>

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

t.test('every script answers a bad or missing flag with a line naming itself, then its usage, on stderr, exit 2', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['token', ['--bogus'], /^token: Unknown option '--bogus'/],
    ['token', ['--role', 'admin'], /^token: --sub is required\n/],
    ['token', ['--sub', 'alice', '--ttl', '0'], /^token: --ttl must be an integer of at least 1\n/],
    ['token', ['--sub', 'alice', '--user', 'bob'], /^token: --sub and --user are one option: give it once\n/],
    ['publish-event', ['--type', 'a.b', 'stray'], /^publish-event: Unexpected argument 'stray'/],
    ['publish-event', ['--user', 'alice'], /^publish-event: --type is required\n/],
    ['publish-event', ['--type'], /^publish-event: Option '--type <value>' argument missing/],
    ['chaos', ['--rate', '0'], /^chaos: --rate must be an integer from 1 to 1000\n/],
    ['chaos', ['--bogus'], /^chaos: Unknown option '--bogus'/],
    ['cluster', ['--instances', '9'], /^cluster: --instances must be an integer from 1 to 8\n/],
    ['cluster', ['--redis-port', 'x'], /^cluster: --redis-port must be an integer from 1 to 65535\n/],
    ['cluster', ['--redis-port', '7000', '--redis-cluster'], /^cluster: --redis-port sets the one redis-server's port/],
    ['memory-probe', ['--connections', 'many'], /^memory-probe: --connections must be an integer of at least 1\n/],
    ['memory-probe', ['--bogus'], /^memory-probe: Unknown option '--bogus'/],
    ['memory-probe', ['--redis', 'localhost:6379'], /^memory-probe: --redis must be a redis:\/\/ or rediss:\/\/ URL, e\.g\. redis:\/\/127\.0\.0\.1:6379\n/],
    ['token', ['--sub', 'alice', '--private-key', '/nowhere/key.pem'], /^token: --private-key \/nowhere\/key\.pem: cannot be read \(ENOENT\)\n/],
    ['token', ['--sub', 'alice', '--private-key', 'package.json'], /^token: --private-key package\.json: is not a PEM private key, e\.g\. one from `openssl genpkey/],
    ['abuse/run', ['--bogus'], /^abuse: Unknown option '--bogus'/]
  ]
  for (const [name, args, message] of cases) {
    const { code, stdout, stderr } = await script(name, args)
    t.equal(code, 2, `${name} ${args.join(' ')}`)
    t.match(stderr, message)
    t.match(stderr, `\n\nUsage: npm run ${name.replace('/run', '')} -- `, 'then its usage')
    t.notMatch(stderr, /\n\s+at /, 'no stack trace')
    t.equal(stdout, '', 'nothing on stdout')
  }
})

t.test('token and publish-event take --user and --sub alike; an empty JWT_SECRET, JWT_ISSUER or JWT_AUDIENCE is unset', async (t) => {
  const viaUser = await script('token', ['--user', 'alice'])
  t.equal(viaUser.code, 0, viaUser.stderr)
  t.equal(claimsOf(viaUser.stdout.trim()).sub, 'alice', '--user is --sub')

  const empty = await script('token', ['--sub', 'alice'], { JWT_SECRET: '', JWT_ISSUER: '', JWT_AUDIENCE: ' ' })
  t.equal(empty.code, 0, empty.stderr)
  const jwt = empty.stdout.trim()
  t.equal(createVerifier({ key: DEV_JWT_SECRET, algorithms: ['HS256'] })(jwt).sub, 'alice', 'signed with the development key, as the gateway reads JWT_SECRET=')
  t.notOk('iss' in claimsOf(jwt) || 'aud' in claimsOf(jwt), 'no empty iss or aud claim')
  const padded = await script('token', ['--sub', 'alice'], { JWT_SECRET: ` ${TEST_SECRET} ` })
  t.equal(createVerifier({ key: TEST_SECRET, algorithms: ['HS256'] })(padded.stdout.trim()).sub, 'alice', 'trimmed, as the gateway trims it')
})

t.test('publish-event reaches the gateway at PORT without --url, and --sub addresses the user as --user does', async (t) => {
  const gw = await startGateway(t)
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  t.equal((await bob.subscribe('order.*')).type, 'subscribed')
  const published = await script('publish-event', ['--type', 'order.created', '--sub', 'bob'], { PORT: new URL(gw.url).port })
  t.equal(published.code, 0, published.stderr)
  t.match((await bob.next((f) => f.type === 'event' && f.payload.id === published.stdout.trim())).payload, { type: 'order.created', userId: 'bob' })
  t.match(published.stderr, `to http://127.0.0.1:${new URL(gw.url).port}/events`)
  const badPort = await script('publish-event', ['--type', 'a.b'], { PORT: 'eighty' })
  t.equal(badPort.code, 2)
  t.match(badPort.stderr, /^publish-event: PORT must be a port number from 1 to 65535, e\.g\. 3000 \(got "eighty"\), or give --url\n/)
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

interface ClusterRun { output: () => string, exited: Promise<number | null>, stop: () => void }

/** Starts `npm run cluster` on two instances at `basePort` and resolves once it says it is up. */
async function startCluster (t: Test, basePort: number, extra: string[], timeoutMs: number): Promise<ClusterRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts', '--instances', '2', '--base-port', String(basePort), ...extra], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
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
  await within(started, timeoutMs, 'the cluster to start')
  return { output: () => output, exited, stop: () => child.kill('SIGINT') }
}

/** bob subscribes on the second instance, an event is published on the first, and reaches him. */
async function crossInstance (t: Test, first: string, second: string): Promise<Awaited<ReturnType<typeof connectAs>>> {
  const bob = await connectAs(t, `ws://${second}/ws/events`, userToken('bob'))
  t.equal((await bob.subscribe('session.*')).type, 'subscribed')
  const published = await script('publish-event', ['--url', `http://${first}`, '--type', 'session.created', '--user', 'bob'])
  t.equal(published.code, 0, published.stderr)
  // The gateway's own session.created for bob's socket comes too: the published one is found by its id.
  const id = published.stdout.trim()
  t.match((await bob.next((f) => f.type === 'event' && f.payload.id === id)).payload, { id, type: 'session.created' }, 'published on eg-1, received on eg-2')
  return bob
}

t.test('cluster starts Redis and two instances that share events, and stops cleanly on SIGINT', async (t) => {
  const basePort = await portPair()
  const cluster = await startCluster(t, basePort, [], 60_000)
  const output = cluster.output()
  const [first, second] = [basePort, basePort + 1].map((port) => `127.0.0.1:${port}`) as [string, string]
  t.match(output, `eg-1  http://${first}  ws://${first}/ws/events  dashboard http://${first}/dashboard`)
  t.match(output, `eg-2  http://${second}`)
  const redisPort = Number(/on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1])
  const dir = /\(data in ([^)]+)\)/.exec(output)?.[1] ?? ''
  t.ok(await listening(redisPort), 'its own redis-server')
  t.ok(existsSync(dir), 'in a temporary directory')

  const bob = await crossInstance(t, first, second)

  cluster.stop()
  t.equal((await bob.closed).code, 1001, 'the instances drain')
  t.equal(await within(cluster.exited, 30_000, 'the cluster to stop'), 0, 'exit 0')
  t.match(cluster.output(), 'cluster stopped')
  t.notOk(await listening(basePort) || await listening(basePort + 1), 'the instances are gone')
  t.notOk(await listening(redisPort), 'Redis is gone')
  t.notOk(existsSync(dir), 'its directory removed')
})

t.test('cluster --redis-cluster runs the instances on a Redis Cluster of its own, and stops every node on SIGINT', async (t) => {
  const basePort = await portPair()
  // Six nodes, a cluster create and two instances: slower to start than one Redis on a loaded machine.
  const cluster = await startCluster(t, basePort, ['--redis-cluster'], 120_000)
  const output = cluster.output()
  const [first, second] = [basePort, basePort + 1].map((port) => `127.0.0.1:${port}`) as [string, string]
  t.match(output, 'on a Redis Cluster of 3 masters and 3 replicas')
  t.match(output, `eg-2  http://${second}`)
  const seeds = /REDIS_CLUSTER_NODES=(\S+)/.exec(output)?.[1] ?? ''
  const ports = seeds.split(',').map((seed) => Number(/^127\.0\.0\.1:(\d+)$/.exec(seed)?.[1]))
  t.equal(new Set(ports.filter(Number.isInteger)).size, 6, 'six seeds printed')
  t.equal((await redisServersOn(ports)).length, 6, 'six redis-server processes of its own')
  for (const port of ports) t.match(await ask(port, ['CLUSTER', 'INFO']), 'cluster_state:ok', `${port} is a node of a cluster that serves`)
  const roles = await Promise.all(ports.map(async (port) => (await ask(port, ['ROLE'])).split('\n')[0]))
  t.same(roles.sort(), ['master', 'master', 'master', 'slave', 'slave', 'slave'], 'three masters, three replicas')
  const dir = /\(data in ([^)]+)\)/.exec(output)?.[1] ?? ''
  t.ok(existsSync(dir), 'in a temporary directory')
  for (const address of [first, second]) {
    const health = await fetch(`http://${address}/ws/health`)
    await health.arrayBuffer()
    t.equal(health.status, 200, `${address} healthy`)
  }

  const bob = await crossInstance(t, first, second)

  cluster.stop()
  t.equal((await bob.closed).code, 1001, 'the instances drain')
  t.equal(await within(cluster.exited, 30_000, 'the cluster to stop'), 0, 'exit 0')
  t.notOk(await listening(basePort) || await listening(basePort + 1), 'the instances are gone')
  t.same(await redisServersOn(ports), [], 'no redis-server of the run is left')
  t.notOk(existsSync(dir), 'its directory removed')
})

t.test('cluster refuses a taken port before starting anything, naming the instance or Redis and the flag', async (t) => {
  const basePort = await portPair()
  const holder = createServer().listen(basePort + 1, '127.0.0.1')
  t.teardown(() => { holder.close() })
  await once(holder, 'listening')
  const instance = await script('cluster', ['--instances', '2', '--base-port', String(basePort)])
  t.equal(instance.code, 1)
  t.equal(instance.stderr, `cluster: eg-2: port ${basePort + 1} on 127.0.0.1 is taken: stop what holds it, or choose another --base-port\n`)
  const redis = await script('cluster', ['--instances', '1', '--base-port', String(basePort), '--redis-port', String(basePort + 1)])
  t.equal(redis.code, 1)
  t.equal(redis.stderr, `cluster: redis: port ${basePort + 1} on 127.0.0.1 is taken: stop what holds it, or choose another --redis-port\n`)
  t.notOk(await listening(basePort), 'no instance was started')
})

t.test('cluster stops everything and exits 1 naming the instance and why, when one exits at the start', async (t) => {
  const basePort = await portPair()
  const { code, stdout, stderr } = await script('cluster', ['--instances', '2', '--base-port', String(basePort)], { JWT_SECRET: 'too-short' })
  t.equal(code, 1)
  t.match(stderr, /\ncluster: eg-[12] exited with code 1: eventgate: invalid configuration: JWT_SECRET: must be at least 32 characters/)
  t.match(stdout, 'cluster stopped')
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
})

t.test('cluster on --redis-port stops everything and exits 1 when an instance dies once running', async (t) => {
  const basePort = await portPair()
  let redisPort = await freePort()
  while (redisPort === basePort || redisPort === basePort + 1) redisPort = await freePort()
  const cluster = await startCluster(t, basePort, ['--redis-port', String(redisPort)], 60_000)
  t.match(cluster.output(), `on redis://127.0.0.1:${redisPort} `)
  t.ok(await listening(redisPort), 'Redis listens on --redis-port')
  const pid = Number(/eg-2 {2}http\S+ {2}\S+ {2}dashboard \S+ {2}pid (\d+)/.exec(cluster.output())?.[1])
  t.ok(Number.isInteger(pid), 'each instance\'s pid is printed')
  process.kill(pid, 'SIGKILL')
  t.equal(await within(cluster.exited, 30_000, 'the cluster to stop'), 1, 'exit 1')
  t.match(cluster.output(), 'cluster: eg-2 was killed by SIGKILL')
  t.match(cluster.output(), 'cluster stopped')
  t.notOk(await listening(basePort), 'the other instance is stopped')
  t.notOk(await listening(redisPort), 'Redis is stopped')
})
