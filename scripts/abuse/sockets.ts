import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import WebSocket from 'ws'

export interface Frame {
  type: string
  id?: string | number
  payload: Record<string, unknown>
}

export interface Closed { code: number, reason: string }

/**
 * A well-behaved `ws` client: every frame is queued from the start, so none is missed between
 * connecting and the first wait. An upgrade refused over HTTP closes it with code 0 and the
 * status as its reason.
 */
export class Client {
  readonly frames: Frame[] = []
  readonly closed: Promise<Closed>
  private waiters: Array<() => void> = []
  private nextId = 1

  constructor (readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      try {
        this.frames.push(JSON.parse(data.toString()) as Frame)
      } catch {
        this.frames.push({ type: 'unparsable', payload: {} })
      }
      this.wake()
    })
    this.closed = new Promise((resolve) => {
      socket.on('unexpected-response', (_request, response) => {
        response.resume()
        resolve({ code: 0, reason: `HTTP ${String(response.statusCode)}` })
        socket.terminate()
        this.wake()
      })
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        this.wake()
      })
    })
    socket.on('error', () => {})
  }

  /** Opens `/ws/events` (or `path`) with a bearer token, from a loopback address. */
  static open (port: number, token: string, from = '127.0.0.1', path = '/ws/events'): Client {
    return new Client(new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` }, localAddress: from }))
  }

  get isOpen (): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  /** Removes and returns the first queued frame that matches; undefined on timeout or close. */
  async next (match: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.frames.findIndex(match)
      if (index !== -1) return this.frames.splice(index, 1)[0]
      const left = deadline - Date.now()
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) return undefined
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Resolves with true once `connected` arrived, false if the socket closed or timed out first. */
  async connected (timeoutMs: number): Promise<boolean> {
    return await this.next((f) => f.type === 'connected', timeoutMs) !== undefined
  }

  /** Sends a request and resolves with the frame that echoes its id (undefined on timeout). */
  async request (type: string, payload: Record<string, unknown>, timeoutMs: number): Promise<Frame | undefined> {
    const id = `r${this.nextId++}`
    this.send({ type, id, payload })
    return await this.next((f) => f.id === id, timeoutMs)
  }

  send (frame: unknown): void {
    if (this.isOpen) this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  close (): void {
    this.socket.terminate()
  }

  private wake (): void {
    for (const wake of this.waiters.splice(0)) wake()
  }
}

/**
 * A hostile WebSocket client over a bare TCP socket: it sends its own upgrade request (any
 * request target, fragments included) and goes on writing frames after the server's close
 * frame, which a real client library would never do.
 */
export class RawWebSocket {
  status = 0
  /** The first text frame the server sent (`connected` when the upgrade authenticated). */
  firstText: string | undefined
  closeFrame: Closed | undefined
  closeFrameAt: number | undefined
  endedAt: number | undefined
  readonly ended: Promise<void>
  readonly answered: Promise<void>
  /** Resolves at the first frame from the server, text or close, or when the socket ends. */
  readonly spoke: Promise<void>
  private buffer = Buffer.alloc(0)
  private headDone = false
  private readonly socket: Socket
  private answer: () => void = () => {}
  private speak: () => void = () => {}

  constructor (port: number, target: string, headers: Record<string, string>, from: string) {
    this.socket = connect({ host: '127.0.0.1', port, localAddress: from })
    this.answered = new Promise((resolve) => { this.answer = resolve })
    this.spoke = new Promise((resolve) => { this.speak = resolve })
    this.ended = new Promise((resolve) => this.socket.once('close', () => {
      this.endedAt = performance.now()
      this.answer()
      this.speak()
      resolve()
    }))
    this.socket.on('error', () => {})
    this.socket.on('data', (chunk: Buffer) => this.read(chunk))
    const lines = [
      `GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
    ]
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  }

  get writable (): boolean {
    return !this.socket.destroyed && this.socket.writable
  }

  /** Writes one masked text frame; resolves when the socket can take more (or is gone). */
  async sendText (text: string): Promise<void> {
    if (!this.writable) return
    if (this.socket.write(maskedFrame(text))) return
    await new Promise<void>((resolve) => {
      this.socket.once('drain', resolve)
      this.socket.once('close', resolve)
    })
  }

  destroy (): void {
    this.socket.destroy()
  }

  private read (chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (!this.headDone) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end === -1) return
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.buffer.subarray(0, end).toString('latin1'))?.[1] ?? 0)
      this.headDone = true
      this.buffer = this.buffer.subarray(end + 4)
      this.answer()
    }
    // Server frames are unmasked: two header bytes, then a 16- or 64-bit length when needed.
    while (this.buffer.length >= 2 && this.closeFrame === undefined) {
      const opcode = (this.buffer[0] as number) & 0x0f
      let length = (this.buffer[1] as number) & 0x7f
      let offset = 2
      if (length === 126) { if (this.buffer.length < 4) return; length = this.buffer.readUInt16BE(2); offset = 4 }
      if (length === 127) { if (this.buffer.length < 10) return; length = Number(this.buffer.readBigUInt64BE(2)); offset = 10 }
      if (this.buffer.length < offset + length) return
      const payload = this.buffer.subarray(offset, offset + length)
      this.buffer = this.buffer.subarray(offset + length)
      if (opcode === 0x1) this.firstText ??= payload.toString()
      if (opcode === 0x8) {
        this.closeFrame = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() }
        this.closeFrameAt = performance.now()
      }
      this.speak()
    }
  }
}

/** A client text frame: FIN, opcode 1, masked (RFC 6455 requires it of clients), zero key. */
function maskedFrame (text: string): Buffer {
  const payload = Buffer.from(text)
  const length = payload.length
  const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff])
  // A zero masking key leaves the payload as it is; the server unmasks it all the same.
  return Buffer.concat([header, Buffer.alloc(4), payload])
}
