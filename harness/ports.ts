import { createServer } from 'node:net'

/**
 * Ports handed out to the servers tests start, below the kernel's ephemeral range (32768 and
 * up), where the local end of any outgoing connection can take a port between the check and the
 * server's listen. A Redis Cluster node also listens on its port + 10000 (the cluster bus), which
 * stays below it too.
 */
const LOW = 15_000
const HIGH = 22_000

/** A port that was free a moment ago, picked at random below the ephemeral range. */
export async function freePort (): Promise<number> {
  for (;;) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW))
    if (await listenable(port)) return port
  }
}

/** Whether a server could listen on `port` on loopback just now. */
export async function listenable (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** Resolves when `check` holds, polling every few milliseconds, or rejects after `timeoutMs`. */
export async function until (check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
