import { type ChildProcess, spawn } from 'node:child_process'
import type { Teardown } from './teardown.js'
import { TEST_SECRET } from './tokens.js'

export interface GatewayProcess {
  url: string
  wsUrl: string
  child: ChildProcess
  /** Everything the process printed so far. */
  output: () => string
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  kill: (signal?: NodeJS.Signals) => Promise<number | null>
}

const START_TIMEOUT_MS = 20_000
const ORPHAN_GUARD = new URL('./orphan-guard.ts', import.meta.url).href
/** What `output()` keeps: the last lines, enough to explain a failure without holding a long run's request log. */
const OUTPUT_KEPT_CHARS = 256 * 1024

/**
 * Node arguments for a gateway whose RSS a test bounds. Node 24 gives V8's young generation
 * 64 MiB semi-spaces where Node 20 took 16 on the same machine, `--max-old-space-size` or not;
 * after a burst of allocation RSS then holds up to three semi-spaces of collected room, whatever
 * the gateway retains. Pinned to Node 20's size, the bounds measure what it retains.
 */
export const MEASURED_YOUNG_GENERATION = ['--max-semi-space-size=16']

/**
 * The gateway as `npm start` runs it, in a process of its own that a test can kill. `nodeArgs`
 * go to node before the script (`--max-old-space-size`, so exhausting memory fails fast).
 */
export async function startGatewayProcess (t: Teardown, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--import', ORPHAN_GUARD, 'server.ts'], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', JWT_SECRET: TEST_SECRET, ...env },
    // stdin: the pipe whose end tells the gateway that this process is gone.
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  // A gateway under load logs a line per request: keep the last chunks, search until found.
  const chunks: string[] = []
  let kept = 0
  const output = (): string => chunks.join('')
  let listening = false
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output()}`)), START_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString()
      chunks.push(text)
      kept += text.length
      while (kept > OUTPUT_KEPT_CHARS && chunks.length > 1) kept -= (chunks.shift() as string).length
      if (listening) return
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output())
      if (match !== null) {
        listening = true
        clearTimeout(timer)
        resolve(match[1] as string)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => reject(new Error(`gateway exited with ${String(code)}:\n${output()}`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    child,
    output,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      child.kill(signal)
      return await exited
    }
  }
}
