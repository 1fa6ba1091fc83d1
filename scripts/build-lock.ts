import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { until } from '../harness/ports.js'

/** Long enough for a build on a loaded machine to finish; a lock held longer means a hung build. */
const WAIT_MS = 5 * 60_000

/**
 * Runs `work` while holding the lock file at `path`, waiting for another process's build to end
 * first. The file holds its owner's pid: one left by a build that was killed is taken over once
 * that pid is gone, so a crash never blocks the next start.
 */
export async function withBuildLock<T> (path: string, work: () => Promise<T>, waitMs = WAIT_MS): Promise<T> {
  await until(() => take(path), waitMs, `the build lock ${path} (remove it if no build is running)`)
  try {
    return await work()
  } finally {
    rmSync(path, { force: true })
  }
}

function take (path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  if (ownerAlive(path)) return false
  // Two waiters may find the same dead owner; whichever creates the file first on its next try
  // holds the lock, and the other then reads a live pid. Only a waiter stalled between the read
  // above and this removal for longer than a poll could remove its successor's lock.
  rmSync(path, { force: true })
  return false
}

function ownerAlive (path: string): boolean {
  let pid: number
  try {
    pid = Number(readFileSync(path, 'utf8'))
  } catch {
    return true
  }
  // An empty file is a lock being written this instant, not an abandoned one.
  if (!Number.isInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
