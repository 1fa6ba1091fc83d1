import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'
import type { Teardown } from './teardown.js'

export interface RedisOptions {
  /**
   * Append-only file in the temp dir, fsynced before every reply: whatever Redis acknowledged
   * survives a SIGKILL and a start on the same dir. Without it a restart starts empty.
   */
  persistent?: boolean
  /** More redis-server arguments, such as a cluster node's. */
  args?: readonly string[]
}

/** A real redis-server of the test's own, on a free port with a temp dir, that can be stopped and restarted. */
export class RedisServer {
  private process: ChildProcess | undefined

  private constructor (readonly port: number, private readonly dir: string, private readonly options: RedisOptions) {}

  static async start (t: Teardown, options: RedisOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'eventgate-redis-')), options)
    t.teardown(async () => {
      await server.stop()
      rmSync(server.dir, { recursive: true, force: true })
    })
    await server.start()
    return server
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running (): boolean {
    return this.process !== undefined
  }

  async start (): Promise<void> {
    const persistence = this.options.persistent === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
    const child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir, ...(this.options.args ?? [])
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.process = child
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${String(code)}:\n${output}`))
      })
    })
  }

  /** Freezes the server (SIGSTOP) as a stalled host would, or resumes it (SIGCONT). */
  signal (signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.process?.kill(signal)
  }

  /** Kills the server (SIGKILL by default, as a crash would) and waits for it to be gone. */
  async stop (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process
    if (child === undefined) return
    this.process = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill(signal)
    })
  }
}
