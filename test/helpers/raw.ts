import { connect, type Socket } from 'node:net'
import type { Teardown } from '../../harness/teardown.js'

/**
 * A bare TCP connection to a gateway, for what `fetch` and `ws` will not do: stall a request
 * halfway, send nothing at all, put a fragment in the request target.
 */
export class RawClient {
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>
  private readonly chunks: Buffer[] = []
  private waiters: Array<() => void> = []

  private constructor (readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.wake()
    })
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.wake()
      resolve()
    }))
  }

  /** Connects to the host and port of `url`; the socket is destroyed when the test ends. */
  static async open (t: Teardown, url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port), hostname)
    t.teardown(() => { socket.destroy() })
    const client = new RawClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return client
  }

  write (data: string | Buffer): void {
    this.socket.write(data)
  }

  /** Everything received so far. */
  get received (): Buffer {
    return Buffer.concat(this.chunks)
  }

  /** Resolves with what was received once `done` holds; rejects after `ms`, or if the socket closes first. */
  async until (done: (received: Buffer) => boolean, ms: number, what: string): Promise<Buffer> {
    const deadline = Date.now() + ms
    for (;;) {
      const received = this.received
      if (done(received)) return received
      if (this.socket.destroyed) throw new Error(`closed while waiting for ${what}; received ${JSON.stringify(received.toString('latin1').slice(0, 200))}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** The status code of the first response, once its status line has arrived within `ms`. */
  async status (ms: number): Promise<number> {
    const line = /^HTTP\/1\.1 (\d{3}) /
    const received = await this.until((data) => line.test(data.toString('latin1')), ms, 'a status line')
    return Number(line.exec(received.toString('latin1'))?.[1])
  }

  private wake (): void {
    for (const wake of this.waiters.splice(0)) wake()
  }
}

/** The request head of a POST to `path` that announces `contentLength` bytes of JSON. */
export function postHead (path: string, contentLength: number, headers: Record<string, string> = {}): string {
  const lines = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', 'content-type: application/json', `content-length: ${contentLength}`]
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}
