import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a contender reports to the load generator: its CPU so far and, after a full GC, its RSS. */
export interface ControlReport {
  cpuMicros: number
  rssBytes: number
  heapUsedBytes: number
}

const gc = (globalThis as { gc?: () => void }).gc

/**
 * A second listener inside each benchmark server, apart from the service's own port and never
 * part of the service: `GET /cpu` answers at once, `GET /memory` collects garbage first (the
 * servers run with --expose-gc) so idle connections are measured, not uncollected garbage.
 */
export async function startControl (): Promise<number> {
  const server = createServer((request, response) => {
    if (request.url === '/memory') {
      // Twice: the first collection runs finalizers that free more on the second.
      gc?.()
      gc?.()
    }
    const { user, system } = process.cpuUsage()
    const memory = process.memoryUsage()
    const report: ControlReport = { cpuMicros: user + system, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed }
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify(report))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  return (server.address() as AddressInfo).port
}

/** Tells the runner where this server listens; the runner spawned it with an IPC channel. */
export function announce (port: number, controlPort: number): void {
  process.send?.({ ready: true, port, controlPort })
}

/** Listens on a free loopback port, starts the control listener, and tells the runner both. */
export async function serve (http: Server): Promise<void> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  announce((http.address() as AddressInfo).port, await startControl())
}
