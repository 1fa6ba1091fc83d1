import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { joinCluster } from '../harness/redis-cluster.js'
import { commandLine } from './command-line.js'

const HELP = `Run several eventgate instances on one Redis, to try the cluster out.

Usage: npm run cluster -- [options]

  --instances <n>    gateway processes (default 2, 1 to 8)
  --base-port <p>    the first instance's port; the others follow it (default 3001)
  --redis-cluster    a Redis Cluster of 3 masters and 3 replicas instead of one redis-server
  -h, --help         this text

Starts its own redis-server on a free loopback port, with its data in a temporary directory,
then the instances on consecutive ports with REDIS_URL set and SERVER_ID eg-1, eg-2, …, and
prints their URLs once every one is healthy. The environment passes through (JWT_SECRET,
NODE_ENV, ALLOWED_ORIGINS …); instances log at warn unless LOG_LEVEL is set, each line
prefixed with its name. Ctrl-C stops them all: the instances drain, then Redis stops and its
directory is removed. A second Ctrl-C kills everything at once. Needs redis-server on PATH.

With --redis-cluster it starts six cluster nodes instead, on free loopback ports with their data
in one temporary directory, joins them with redis-cli --cluster create (three masters, a replica
each), gives the instances REDIS_CLUSTER_NODES (the six seeds, printed with the URLs) instead of
REDIS_URL, and on Ctrl-C stops every node once the instances have drained. Needs Redis 7 or
later (redis-server and redis-cli) on PATH.`

/** Past these, a start or a stop is taken to have failed. */
const READY_TIMEOUT_MS = 30_000
const CLUSTER_READY_TIMEOUT_MS = 60_000
/** Three masters with a replica each: the smallest cluster that can lose a master and go on. */
const CLUSTER_NODES = 6
/**
 * How long a node may be silent before its master is replaced: short enough to try a failover
 * by killing a master, long enough that a busy laptop is not taken for a dead node.
 */
const CLUSTER_NODE_TIMEOUT_MS = 5000
/** An instance drains within SHUTDOWN_TIMEOUT (10 s by default); beyond this it is killed. */
const STOP_TIMEOUT_MS = 20_000
const HEALTH_POLL_MS = 100
const ROOT = fileURLToPath(new URL('..', import.meta.url))

const { values, fail, integer } = commandLine('cluster', HELP, {
  instances: { type: 'string', default: '2' },
  'base-port': { type: 'string', default: '3001' },
  'redis-cluster': { type: 'boolean', default: false }
})

const instances = integer('instances', 1, 8)
const basePort = Number(values['base-port'])
if (!Number.isInteger(basePort) || basePort < 1 || basePort + instances - 1 > 65535) fail('--base-port must be a port number, with room for every instance after it')

interface Member { name: string, child: ChildProcess, exited: Promise<number | null> }

/**
 * Children run in process groups of their own: the terminal's Ctrl-C reaches this script alone,
 * which stops them in order (instances first, so they drain while Redis is still there).
 */
function start (name: string, command: string, args: string[], env: NodeJS.ProcessEnv, echo = true): Member {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal === null ? code : null))
    child.once('error', (err) => {
      process.stderr.write(`[${name}] ${err.message}\n`)
      resolve(null)
    })
  })
  if (echo) {
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      createInterface({ input: from }).on('line', (line) => to.write(`[${name}] ${line}\n`))
    }
  }
  return { name, child, exited }
}

const running = (member: Member): boolean => member.child.exitCode === null && member.child.signalCode === null

async function stop (member: Member, signal: NodeJS.Signals): Promise<number | null> {
  if (running(member)) member.child.kill(signal)
  const timer = setTimeout(() => { if (running(member)) member.child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
  try {
    return await member.exited
  } finally {
    clearTimeout(timer)
  }
}

/** `count` distinct free ports: each is held until all are found, so none is picked twice. */
async function freePorts (count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'))
  await Promise.all(servers.map(async (server) => await once(server, 'listening')))
  const ports = servers.map((server) => {
    const address = server.address()
    server.close()
    if (typeof address !== 'object' || address === null) return fail('no free port for redis-server')
    return address.port
  })
  return ports
}

/** Redis's own start-up lines are noise once it runs: they are shown only when it fails to start. */
async function redisReady (redis: Member): Promise<void> {
  const lines: string[] = []
  const ready = new Promise<void>((resolve) => {
    createInterface({ input: redis.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      lines.push(line)
      if (line.includes('Ready to accept connections')) resolve()
    })
  })
  const outcome = await Promise.race([ready.then(() => 'ready'), redis.exited.then(() => 'exited'), delay(READY_TIMEOUT_MS, 'timed out')])
  if (outcome !== 'ready') throw new Error(`${redis.name} did not start (${outcome}):\n${lines.join('\n')}`)
  createInterface({ input: redis.child.stderr as NodeJS.ReadableStream }).on('line', (line) => process.stderr.write(`[${redis.name}] ${line}\n`))
}

async function healthy (member: Member, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (!running(member)) throw new Error(`${member.name} exited with ${String(member.child.exitCode ?? member.child.signalCode)}`)
    const status = await fetch(`${url}/ws/health`).then(async (r) => { await r.arrayBuffer(); return r.status }, () => 0)
    if (status === 200) return
    await delay(HEALTH_POLL_MS)
  }
  throw new Error(`${member.name} was not healthy within ${READY_TIMEOUT_MS} ms`)
}

/**
 * The Redis side: one redis-server, or six cluster nodes sharing the directory (each with a state
 * file named for its port). A node's cluster bus port is picked free too: Redis would otherwise
 * take its port + 10,000, which may be taken, or past 65535 for a port above 55535.
 */
function startRedis (dir: string, ports: readonly number[]): { members: Member[], ports: number[], env: NodeJS.ProcessEnv, where: string, seeds?: string } {
  const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  if (!values['redis-cluster']) {
    const [port] = ports as [number]
    const url = `redis://127.0.0.1:${port}`
    return { members: [start('redis', 'redis-server', ['--port', String(port), ...base], process.env, false)], ports: [port], env: { REDIS_URL: url }, where: url }
  }
  const nodes = ports.slice(0, CLUSTER_NODES)
  const members = nodes.map((port, i) => start(`redis-${port}`, 'redis-server', [
    '--port', String(port), ...base, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-port', String(ports[CLUSTER_NODES + i]), '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS)
  ], process.env, false))
  const seeds = nodes.map((port) => `127.0.0.1:${port}`).join(',')
  // A REDIS_URL passed through would contradict the seeds and stop every instance.
  return { members, ports: nodes, env: { REDIS_URL: undefined, REDIS_CLUSTER_NODES: seeds }, where: 'a Redis Cluster of 3 masters and 3 replicas', seeds }
}

const dir = mkdtempSync(join(tmpdir(), 'eventgate-cluster-'))
const redisSide = startRedis(dir, await freePorts(values['redis-cluster'] ? CLUSTER_NODES * 2 : 1))
const redisNodes = redisSide.members
const gateways: Member[] = []
let stopping = false

async function shutdown (code: number): Promise<never> {
  stopping = true
  const codes = await Promise.all(gateways.map(async (g) => await stop(g, 'SIGINT')))
  await Promise.all(redisNodes.map(async (node) => await stop(node, 'SIGTERM')))
  rmSync(dir, { recursive: true, force: true })
  process.stdout.write('cluster stopped\n')
  process.exit(codes.every((c) => c === 0) ? code : 1)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!stopping) {
      process.stdout.write('stopping: the instances drain, then Redis stops (Ctrl-C again to kill at once)\n')
      void shutdown(0)
      return
    }
    for (const member of [...gateways, ...redisNodes]) if (running(member)) member.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    process.exit(1)
  })
}

try {
  await Promise.all(redisNodes.map(redisReady))
  if (values['redis-cluster']) await joinCluster(redisSide.ports, CLUSTER_READY_TIMEOUT_MS)
  const urls: string[] = []
  for (let i = 1; i <= instances; i++) {
    const name = `eg-${i}`
    const port = basePort + i - 1
    const env = { ...process.env, ...redisSide.env, PORT: String(port), SERVER_ID: name, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }
    const gateway = start(name, process.execPath, ['--import', 'tsx', 'server.ts'], env)
    gateways.push(gateway)
    urls.push(`http://127.0.0.1:${port}`)
    void gateway.exited.then((code) => { if (!stopping) process.stderr.write(`[${name}] exited with ${String(code)}\n`) })
  }
  await Promise.all(gateways.map(async (g, i) => await healthy(g, urls[i] as string)))
  process.stdout.write(`eventgate cluster: ${instances} instance${instances === 1 ? '' : 's'} on ${redisSide.where} (data in ${dir})\n`)
  if (redisSide.seeds !== undefined) process.stdout.write(`  REDIS_CLUSTER_NODES=${redisSide.seeds}\n`)
  urls.forEach((url, i) => {
    process.stdout.write(`  eg-${i + 1}  ${url}  ${url.replace(/^http/, 'ws')}/ws/events  dashboard ${url}/dashboard\n`)
  })
  process.stdout.write('Ctrl-C stops them all.\n')
} catch (err) {
  // A Ctrl-C during the start already shuts down, and fails what was waiting: one shutdown is enough.
  if (!stopping) {
    process.stderr.write(`cluster: ${(err as Error).message}\n`)
    await shutdown(1)
  }
}
