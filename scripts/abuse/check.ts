import type { Instance } from './instance.js'
import type { Lab } from './lab.js'

/** Volumes of one run: the default, or `--quick`'s smaller ones. */
export interface Sizes {
  /** Events of 30 KB in the history the resumes read; the history holds them and a little more. */
  historyEvents: number
  historyMaxEvents: number
  stalledUploads: number
  idleSockets: number
  /** The user's retained events, then how long strangers flood both instances. */
  keptEvents: number
  floodMs: number
  /** Frames written after the server's 1008 close. */
  framesAfterClose: number
  /** How long a server may take to close what its timeouts must close. */
  timeoutBoundMs: number
}

export interface CheckContext {
  lab: Lab
  sizes: Sizes
  /** The peak RSS growth of an instance since the check began, in MB. */
  growthMb: (instance: Instance) => number
  /** Progress for stderr. */
  log: (line: string) => void
}

/** What a check saw: whether its limit held, and the figures that say so, in a few words. */
export interface Outcome {
  held: boolean
  observed: string
}

/**
 * One attack and the limit the gateway must keep under it. `prepare` runs before the measured
 * window (filling a history, say); `run` is the attack itself, with the legitimate traffic
 * and the instances' spending measured around it.
 */
export interface Check {
  attack: string
  limit: string
  /** Health 200 on both instances throughout is part of the limit. */
  healthIsLimit?: boolean
  prepare?: (ctx: CheckContext) => Promise<void>
  run: (ctx: CheckContext) => Promise<Outcome>
}

/** Loopback addresses of their own for each check (all of 127.0.0.0/8 is local on Linux). */
export function addresses (block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.${block}.${Math.floor(i / 250)}.${i % 250 + 1}`)
}

/** `count` tasks, `concurrency` at a time. */
export async function pool<T> (count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }))
  return results
}

export const mb = (n: number): string => `${n.toFixed(0)} MB`
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
