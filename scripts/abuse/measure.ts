import type { Instance } from './instance.js'

const SAMPLE_MS = 100
const MB = 1024 * 1024

export interface Spent {
  /** Per instance: the highest RSS seen minus the RSS at the start, in MB. */
  rssGrowthMb: Record<string, number>
  /** Per instance: CPU seconds used over the window. */
  cpuSeconds: Record<string, number>
  /** Per instance: bytes written to stdout and stderr (its log) over the window. */
  logBytes: Record<string, number>
  /** Instances that were alive at the start and are gone at the end. */
  died: string[]
}

interface Track { instance: Instance, rss0: number, peak: number, cpu0: number, cpu: number, log0: number }

/**
 * What the instances spend while one check runs, read from /proc/<pid>/status (VmRSS, sampled
 * every 100 ms for the peak) and /proc/<pid>/stat (utime + stime), and their log bytes.
 */
export class Window {
  private readonly tracks: Track[]
  private readonly timer: NodeJS.Timeout

  constructor (instances: Instance[]) {
    this.tracks = instances.map((instance) => {
      const rss = instance.rssBytes() ?? 0
      const cpu = instance.cpuSeconds() ?? 0
      return { instance, rss0: rss, peak: rss, cpu0: cpu, cpu, log0: instance.output.bytes }
    })
    this.timer = setInterval(() => this.sample(), SAMPLE_MS)
  }

  /** The peak RSS growth of `instance` so far, in MB. */
  growthMb (instance: Instance): number {
    this.sample()
    const track = this.tracks.find((t) => t.instance === instance)
    return track === undefined ? 0 : (track.peak - track.rss0) / MB
  }

  stop (): Spent {
    this.sample()
    clearInterval(this.timer)
    const spent: Spent = { rssGrowthMb: {}, cpuSeconds: {}, logBytes: {}, died: [] }
    for (const t of this.tracks) {
      const name = t.instance.name
      spent.rssGrowthMb[name] = (t.peak - t.rss0) / MB
      spent.cpuSeconds[name] = t.cpu - t.cpu0
      spent.logBytes[name] = t.instance.output.bytes - t.log0
      if (!t.instance.alive) spent.died.push(name)
    }
    return spent
  }

  private sample (): void {
    for (const t of this.tracks) {
      const rss = t.instance.rssBytes()
      if (rss !== undefined && rss > t.peak) t.peak = rss
      t.cpu = t.instance.cpuSeconds() ?? t.cpu
    }
  }
}
