import { type Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'

export interface HttpOptions {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string
  /** The loopback address the request comes from (127.0.0.0/8 is all local on Linux). */
  from?: string
  agent?: Agent
  timeoutMs?: number
}

/** An answer; status 0 when the request failed on the network or timed out (`body` says how). */
export interface Answer { status: number, body: string, ms: number }

const DEFAULT_TIMEOUT_MS = 10_000

/** One HTTP request to a local instance; never rejects. */
export async function http (port: number, options: HttpOptions): Promise<Answer> {
  const t0 = performance.now()
  const body = options.body === undefined ? undefined : Buffer.from(options.body)
  return await new Promise((resolve) => {
    const done = (status: number, text: string): void => resolve({ status, body: text, ms: performance.now() - t0 })
    const req = request({
      host: '127.0.0.1',
      port,
      method: options.method ?? 'GET',
      path: options.path,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) }), ...options.headers },
      ...(options.from === undefined ? {} : { localAddress: options.from }),
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString()))
      res.on('error', (err) => done(0, err.message))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', (err) => done(0, err.message))
    // An upgrade answered 101: the socket is not wanted, only the fact it was accepted.
    req.on('upgrade', (_res, socket) => { socket.destroy(); done(101, '') })
    req.end(body)
  })
}

/** The HTTP status of `POST /events` with a service token, and the ids it answered. */
export async function publish (port: number, token: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, ids: string[], body: string }> {
  const answer = await http(port, { method: 'POST', path: '/events', headers: { authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body), timeoutMs: 30_000 })
  let ids: string[] = []
  if (answer.status === 202) ids = (JSON.parse(answer.body) as { ids: string[] }).ids
  return { status: answer.status, ids, body: answer.body }
}

/**
 * A TCP connection that sent `head` and `body` (or nothing) and then nothing more: when the
 * first answer byte came, its status line, and when the server closed it.
 */
export class RawConnection {
  readonly opened = performance.now()
  answeredAt: number | undefined
  status = 0
  closedAt: number | undefined
  readonly closed: Promise<void>
  private readonly socket: Socket

  constructor (port: number, from: string, head?: string, body?: Buffer) {
    this.socket = connect({ host: '127.0.0.1', port, localAddress: from })
    this.socket.on('data', (chunk: Buffer) => {
      if (this.answeredAt !== undefined) return
      this.answeredAt = performance.now()
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0)
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.once('close', () => {
      this.closedAt = performance.now()
      resolve()
    }))
    if (head !== undefined) this.socket.write(head)
    if (body !== undefined) this.socket.write(body)
  }

  get connected (): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.socket.connecting) resolve(!this.socket.destroyed)
      this.socket.once('connect', () => resolve(true))
      this.socket.once('error', () => resolve(false))
    })
  }

  destroy (): void {
    this.socket.destroy()
  }
}
