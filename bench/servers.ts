import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../harness/redis-cluster.js'
import type { ContenderName } from './clients.js'

/**
 * File descriptors for every child: the load generator holds 20k sockets and more. Raised with
 * prlimit(1) where allowed (CAP_SYS_RESOURCE, or a hard limit already that high); else the
 * children keep the runner's limit and the runner scales the largest sizes down to fit it.
 */
const NOFILE = 65536

let prlimit: boolean | undefined

async function canRaiseLimit (): Promise<boolean> {
  prlimit ??= await new Promise<boolean>((resolve) => {
    const probe = spawn('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, 'true'], { stdio: 'ignore' })
    probe.once('error', () => resolve(false))
    probe.once('exit', (code) => resolve(code === 0))
  })
  return prlimit
}

/** Spawns `node <args>` with an IPC channel and, where possible, NOFILE descriptors. */
export async function spawnNode (args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const node = [process.execPath, ...args]
  const [command, ...rest] = await canRaiseLimit() ? ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, ...node] : node
  return spawn(command as string, rest, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
}

/** The descriptors each child gets. */
export async function fileLimit (): Promise<number> {
  if (await canRaiseLimit()) return NOFILE
  return await new Promise((resolve) => {
    const shell = spawn('sh', ['-c', 'ulimit -n'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    shell.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    shell.once('exit', () => { resolve(/^\d+$/.test(out.trim()) ? Number(out) : 1024) })
  })
}

export interface Instance {
  port: number
  controlPort: number
  child: ChildProcess
}

const ENTRIES: Record<ContenderName, string> = {
  eventgate: 'bench/contender-eventgate.ts',
  socketio: 'bench/contender-socketio.ts',
  bare: 'bench/contender-bare.ts'
}
const START_TIMEOUT_MS = 30_000

/**
 * One instance of a contender on `env` (where Redis is, and for eventgate REDIS_PARTITIONS), with
 * --expose-gc so its memory is measured after a full GC.
 */
export async function startInstance (contender: ContenderName, env: Record<string, string>): Promise<Instance> {
  const child = await spawnNode(['--expose-gc', '--import', 'tsx', ENTRIES[contender]], env)
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${contender} did not start`))
    }, START_TIMEOUT_MS)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${contender} exited with ${String(code)} while starting`))
    })
    child.once('message', (message: { port: number, controlPort: number }) => {
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve({ port: message.port, controlPort: message.controlPort, child })
    })
  })
}

export async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

/** `count` distinct free ports: each is held until all are found, so none is picked twice. */
export async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => await new Promise<Server>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const ports = servers.map((server) => (server.address() as AddressInfo).port)
  await Promise.all(servers.map(async (server) => await new Promise((resolve) => server.close(resolve))))
  return ports
}

/** A redis-server on `port` with its files in `dir`, without persistence; resolves once it serves. */
export async function redisServer (port: number, dir: string, args: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000)
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout.resume()
        resolve()
      }
    })
    child.once('error', reject)
  })
  return child
}

/** The Redis a turn's instances run on: one redis-server or a cluster of them. */
export interface RedisSide {
  /** What an instance is given to reach it: REDIS_URL or REDIS_CLUSTER_NODES. */
  readonly env: Record<string, string>
  /** Every node's port. */
  readonly nodes: readonly number[]
  /** The ports of the nodes that own slots: the one server, or the cluster's masters. */
  readonly masters: readonly number[]
  /** Empties every master: each turn starts on a Redis without the last one's keys. */
  flush: () => Promise<void>
  stop: () => Promise<void>
}

/** A redis-server of the benchmark's own: a free port (or `port`, to restart one), a temp dir, no persistence. */
export class BenchRedis implements RedisSide {
  private constructor (readonly port: number, private readonly dir: string, private readonly child: ChildProcess) {}

  static async start (port?: number): Promise<BenchRedis> {
    port ??= (await freePorts(1))[0] as number
    const dir = mkdtempSync(join(tmpdir(), 'eventgate-bench-redis-'))
    return new BenchRedis(port, dir, await redisServer(port, dir))
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get env (): Record<string, string> {
    return { REDIS_URL: this.url }
  }

  get nodes (): number[] {
    return [this.port]
  }

  get masters (): number[] {
    return [this.port]
  }

  async flush (): Promise<void> {
    await ask(this.port, ['FLUSHALL'])
  }

  async stop (): Promise<void> {
    await stop(this.child)
    rmSync(this.dir, { recursive: true, force: true })
  }
}
