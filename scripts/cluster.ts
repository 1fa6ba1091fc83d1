import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HELP = `Run several eventgate instances on one Redis, to try the cluster out.

Usage: npm run cluster -- [options]

  --instances <n>    gateway processes (default 2, 1 to 8)
  --base-port <p>    the first instance's port; the others follow it (default 3001)
  -h, --help         this text

Starts its own redis-server on a free loopback port, with its data in a temporary directory,
then the instances on consecutive ports with REDIS_URL set and SERVER_ID eg-1, eg-2, …, and
prints their URLs once every one is healthy. The environment passes through (JWT_SECRET,
NODE_ENV, ALLOWED_ORIGINS …); instances log at warn unless LOG_LEVEL is set, each line
prefixed with its name. Ctrl-C stops them all: the instances drain, then Redis stops and its
directory is removed. A second Ctrl-C kills everything at once. Needs redis-server on PATH.`

/** Past these, a start or a stop is taken to have failed. */
const READY_TIMEOUT_MS = 30_000
/** An instance drains within SHUTDOWN_TIMEOUT (10 s by default); beyond this it is killed. */
const STOP_TIMEOUT_MS = 20_000
const HEALTH_POLL_MS = 100
const ROOT = fileURLToPath(new URL('..', import.meta.url))

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '2' },
    'base-port': { type: 'string', default: '3001' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (values.help) {
  process.stdout.write(`${HELP}\n`)
  process.exit(0)
}

function fail (message: string): never {
  process.stderr.write(`cluster: ${message}\n`)
  process.exit(2)
}

const instances = Number(values.instances)
if (!Number.isInteger(instances) || instances < 1 || instances > 8) fail('--instances must be an integer from 1 to 8')
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

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (typeof address !== 'object' || address === null) fail('no free port for redis-server')
  return address.port
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
  if (outcome !== 'ready') throw new Error(`redis-server did not start (${outcome}):\n${lines.join('\n')}`)
  createInterface({ input: redis.child.stderr as NodeJS.ReadableStream }).on('line', (line) => process.stderr.write(`[redis] ${line}\n`))
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

const dir = mkdtempSync(join(tmpdir(), 'eventgate-cluster-'))
const redisPort = await freePort()
const redisUrl = `redis://127.0.0.1:${redisPort}`
const redis = start('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], process.env, false)
const gateways: Member[] = []
let stopping = false

async function shutdown (code: number): Promise<never> {
  stopping = true
  const codes = await Promise.all(gateways.map(async (g) => await stop(g, 'SIGINT')))
  await stop(redis, 'SIGTERM')
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
    for (const member of [...gateways, redis]) if (running(member)) member.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    process.exit(1)
  })
}

try {
  await redisReady(redis)
  const urls: string[] = []
  for (let i = 1; i <= instances; i++) {
    const name = `eg-${i}`
    const port = basePort + i - 1
    const env = { ...process.env, PORT: String(port), REDIS_URL: redisUrl, SERVER_ID: name, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }
    const gateway = start(name, process.execPath, ['--import', 'tsx', 'src/main.ts'], env)
    gateways.push(gateway)
    urls.push(`http://127.0.0.1:${port}`)
    void gateway.exited.then((code) => { if (!stopping) process.stderr.write(`[${name}] exited with ${String(code)}\n`) })
  }
  await Promise.all(gateways.map(async (g, i) => await healthy(g, urls[i] as string)))
  process.stdout.write(`eventgate cluster: ${instances} instance${instances === 1 ? '' : 's'} on ${redisUrl} (data in ${dir})\n`)
  urls.forEach((url, i) => {
    process.stdout.write(`  eg-${i + 1}  ${url}  ${url.replace(/^http/, 'ws')}/ws/events  dashboard ${url}/dashboard\n`)
  })
  process.stdout.write('Ctrl-C stops them all.\n')
} catch (err) {
  process.stderr.write(`cluster: ${(err as Error).message}\n`)
  await shutdown(1)
}
