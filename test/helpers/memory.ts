import { readFileSync, writeFileSync } from 'node:fs'

/** Resident memory of a process, in bytes: `VmRSS` now, `VmHWM` its peak since start or `resetPeak`. */
export function memory (pid: number): { rss: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** Starts `VmHWM` again from the present RSS (Linux 4.0+), so a peak measures one phase of a test. */
export function resetPeak (pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
}

export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0)
