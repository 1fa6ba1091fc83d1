import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { listenable } from '../harness/ports.js'
import { joinCluster } from '../harness/redis-cluster.js'
import { commandLine } from './command-line.js'

const HELP = `Run several eventgate instances on one Redis, to try the cluster out.

Usage: npm run cluster -- [options]

  --instances <n>    gateway processes (default 2, 1 to 8)
  --base-port <p>    the first instance's port; the others follow it (default 3001)
  --redis-port <p>   the redis-server's port (default: a free one); not with --redis-cluster
  --redis-cluster    a Redis Cluster of 3 masters and 3 replicas instead of one redis-server
  -h, --help         this text

Starts its own redis-server on a free loopback port (or --redis-port), with its data in a
temporary directory, then the instances on consecutive ports with REDIS_URL set and SERVER_ID
eg-1, eg-2, …, and prints their URLs and process ids once every one is healthy.
A port already taken stops it before anything starts; an instance that exits, at the start or
later, stops them all: it says which and why, and exits 1. The environment passes through (JWT_SECRET,
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
  'redis-port': { type: 'string' },
  'redis-cluster': { type: 'boolean', default: false }
})

const instances = integer('instances', 1, 8)
const basePort = Number(values['base-port'])
if (!Number.isInteger(basePort) || basePort < 1 || basePort + instances - 1 > 65535) fail('--base-port must be a port number, with room for every instance after it')
const redisPort = values['redis-port'] === undefined ? undefined : integer('redis-port', 1, 65535)
if (redisPort !== undefined && values['redis-cluster']) fail('--redis-port sets the one redis-server\'s port: a Redis Cluster picks free ports for its six nodes')
if (redisPort !== undefined && redisPort >= basePort && redisPort < basePort + instances) fail(`--redis-port ${redisPort} is an instance's port (--base-port ${basePort}, --instances ${instances})`)

/** A child process; `lastLines` are the last lines it wrote to stderr, which say why it stopped. */
interface Member { name: string, child: ChildProcess, exited: Promise<number | null>, lastLines: string[] }

/** Lines of a child's stderr kept to explain its exit: a fatal error is one line, its context a few. */
const LAST_LINES = 3

/**
 * Children run in process groups of their own: the terminal's Ctrl-C reaches this script alone,
 * which stops them in order (instances first, so they drain while Redis is still there).
 */
function start (name: string, command: string, args: string[], env: NodeJS.ProcessEnv, echo = true): Member {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const exited = new Promise<number | null>((resolve) => {
    // 'close', not 'exit': by then its last lines are read, and they say why it stopped.
    child.once('close', (code, signal) => resolve(signal === null ? code : null))
    child.once('error', (err) => {
      process.stderr.write(`[${name}] ${err.message}\n`)
      resolve(null)
    })
  })
  const lastLines: string[] = []
  if (echo) {
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      createInterface({ input: from }).on('line', (line) => {
        to.write(`[${name}] ${line}\n`)
        if (from !== child.stderr) return
        lastLines.push(line)
        if (lastLines.length > LAST_LINES) lastLines.shift()
      })
    }
  }
  return { name, child, exited, lastLines }
}

const running = (member: Member): boolean => member.child.exitCode === null && member.child.signalCode === null

/** Why a member stopped: its signal, or its exit code and the last thing it wrote to stderr. */
function exitOf (member: Member): string {
  const { exitCode, signalCode } = member.child
  if (signalCode !== null) return `${member.name} was killed by ${signalCode}`
  const why = member.lastLines.at(-1)
  return `${member.name} exited with code ${String(exitCode)}${why === undefined ? '' : `: ${why}`}`
}

/** Stops before anything started: no usage, the command line was fine. */
function cannotStart (message: string): never {
  process.stderr.write(`cluster: ${message}\n`)
  process.exit(1)
}

/** Every port the run needs, checked before anything starts: a taken one names its owner's flag. */
async function checkPorts (): Promise<void> {
  for (let i = 0; i < instances; i++) {
    const port = basePort + i
    if (!await listenable(port)) cannotStart(`eg-${i + 1}: port ${port} on 127.0.0.1 is taken: stop what holds it, or choose another --base-port`)
  }
  if (redisPort !== undefined && !await listenable(redisPort)) cannotStart(`redis: port ${redisPort} on 127.0.0.1 is taken: stop what holds it, or choose another --redis-port`)
}

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
    if (!running(member)) throw new Error(exitOf(member))
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

await checkPorts()
const dir = mkdtempSync(join(tmpdir(), 'eventgate-cluster-'))
const redisSide = startRedis(dir, redisPort === undefined ? await freePorts(values['redis-cluster'] ? CLUSTER_NODES * 2 : 1) : [redisPort])
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
    // One instance gone and the others serving would pass for a cluster that works: all stop.
    void gateway.exited.then(async () => {
      if (stopping) return
      process.stderr.write(`cluster: ${exitOf(gateway)}\n`)
      await shutdown(1)
    })
  }
  await Promise.all(gateways.map(async (g, i) => await healthy(g, urls[i] as string)))
  process.stdout.write(`eventgate cluster: ${instances} instance${instances === 1 ? '' : 's'} on ${redisSide.where} (data in ${dir})\n`)
  if (redisSide.seeds !== undefined) process.stdout.write(`  REDIS_CLUSTER_NODES=${redisSide.seeds}\n`)
  urls.forEach((url, i) => {
    process.stdout.write(`  eg-${i + 1}  ${url}  ${url.replace(/^http/, 'ws')}/ws/events  dashboard ${url}/dashboard  pid ${String(gateways[i]?.child.pid)}\n`)
  })
  process.stdout.write('Ctrl-C stops them all.\n')
} catch (err) {
  // A Ctrl-C during the start already shuts down, and fails what was waiting: one shutdown is enough.
  if (!stopping) {
    process.stderr.write(`cluster: ${(err as Error).message}\n`)
    await shutdown(1)
  }
}
