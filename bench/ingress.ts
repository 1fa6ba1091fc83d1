import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Bytes each of `pids` has received so far on its TCP connections to `ports` (Redis's nodes):
 * the events Redis pushed to it, and the replies to its commands. Read from the kernel's
 * counters with ss(8), so every contender is measured alike, without its cooperation; a
 * connection closed meanwhile takes its bytes with it. NaN for each where ss is unavailable.
 */
export async function bytesFromRedis (ports: readonly number[], pids: readonly number[]): Promise<number[]> {
  const filter = `( ${ports.map((port) => `dport = :${port}`).join(' or ')} )`
  let out: string
  try {
    ({ stdout: out } = await run('ss', ['-tinpH', 'state', 'established', filter], { maxBuffer: 16 * 1024 * 1024 }))
  } catch {
    return pids.map(() => Number.NaN)
  }
  const bytes = new Map<number, number>(pids.map((pid) => [pid, 0]))
  // Each socket is a line naming its process, then an indented line of TCP figures.
  let owner: number | undefined
  for (const line of out.split('\n')) {
    if (!/^\s/.test(line)) {
      const pid = /pid=(\d+)/.exec(line)
      owner = pid === null ? undefined : Number(pid[1])
      continue
    }
    const received = /bytes_received:(\d+)/.exec(line)
    if (owner !== undefined && received !== null && bytes.has(owner)) bytes.set(owner, (bytes.get(owner) ?? 0) + Number(received[1]))
  }
  return pids.map((pid) => bytes.get(pid) ?? 0)
}
