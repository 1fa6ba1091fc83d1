import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const START_TIMEOUT_MS = 30_000
/**
 * The heap of a small container. An attack that would exhaust memory then ends the instance
 * within seconds, as it would in production, instead of taking the shared machine's RAM.
 */
const HEAP_MB = 512
/** Log lines kept to explain an instance that died. */
const KEPT_LINES = 20

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** Counts the lines an instance writes that contain `needle`. */
export interface Watch { readonly needle: string, count: number }

/**
 * What an instance writes on stdout and stderr (pino JSON lines at `info`): bytes counted,
 * lines scanned only for the needles being watched, nothing kept but the last few lines. An
 * unfixed instance can log hundreds of MiB under attack.
 */
export class OutputMeter {
  bytes = 0
  readonly recent: string[] = []
  private readonly watches = new Set<Watch>()
  private partial = ''
  // A character split between two chunks is decoded whole.
  private readonly decoder = new StringDecoder('utf8')

  watch (needle: string): Watch {
    const watch = { needle, count: 0 }
    this.watches.add(watch)
    return watch
  }

  unwatch (watch: Watch): void {
    this.watches.delete(watch)
  }

  feed (chunk: Buffer): void {
    this.bytes += chunk.length
    const text = this.partial + this.decoder.write(chunk)
    const cut = text.lastIndexOf('\n')
    this.partial = text.slice(cut + 1)
    if (cut === -1) return
    const complete = text.slice(0, cut).split('\n')
    this.recent.push(...complete.slice(-KEPT_LINES).map((line) => line.slice(0, 500)))
    this.recent.splice(0, Math.max(0, this.recent.length - KEPT_LINES))
    if (this.watches.size === 0) return
    for (const line of complete) {
      for (const watch of this.watches) if (line.includes(watch.needle)) watch.count++
    }
  }

  /** Resolves once a line containing `needle` is written, or with false after `ms`. */
  async seen (needle: string, ms: number): Promise<boolean> {
    const watch = this.watch(needle)
    const deadline = Date.now() + ms
    try {
      while (watch.count === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      return watch.count > 0
    } finally {
      this.unwatch(watch)
    }
  }
}

/** One gateway process as `npm start` runs it (server.ts), on a port the OS picked. */
export class Instance {
  private constructor (
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
    readonly output: OutputMeter,
    readonly exited: Promise<number | null>
  ) {}

  /**
   * Starts `server.ts` with `env` only (and PATH). Rejects with the instance's last lines if
   * it exits before listening: a configuration it refuses is an outcome some checks look for.
   */
  static async start (name: string, env: Record<string, string>): Promise<Instance> {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', 'server.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SERVER_ID: name, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const output = new OutputMeter()
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const port = new Promise<number>((resolve, reject) => {
      let head = ''
      let listening = false
      const timer = setTimeout(() => reject(new Error(`${name} did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      const onData = (chunk: Buffer): void => {
        output.feed(chunk)
        if (listening) return
        head += chunk.toString()
        const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(head)
        if (match === null) return
        listening = true
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited with ${String(code)}: ${output.recent.join('\n')}`))
      })
    })
    try {
      return new Instance(name, await port, child, output, exited)
    } catch (err) {
      if (child.exitCode === null) child.kill('SIGKILL')
      throw err
    }
  }

  get alive (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resident set size from /proc/<pid>/status, or undefined once the process is gone. */
  rssBytes (): number | undefined {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(this.child.pid)}/status`, 'utf8'))
      return match === null ? undefined : Number(match[1]) * 1024
    } catch {
      return undefined
    }
  }

  /** User + system CPU seconds from /proc/<pid>/stat, or undefined once the process is gone. */
  cpuSeconds (): number | undefined {
    try {
      const stat = readFileSync(`/proc/${String(this.child.pid)}/stat`, 'utf8')
      // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    } catch {
      return undefined
    }
  }

  get url (): string {
    return `http://127.0.0.1:${this.port}`
  }

  async stop (): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL')
    await this.exited
  }
}
