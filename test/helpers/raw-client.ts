import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { Socket } from 'node:net'
import type { Teardown } from '../../harness/teardown.js'
import { within } from './within.js'

/** A frame from the server: opcode 1 text, 8 close (its code and reason decoded). */
export interface RawFrame {
  opcode: number
  text: string
  code?: number
}

const TEXT = 0x1
const CLOSE = 0x8

/**
 * A WebSocket client written on the bare TCP socket, which does only what the test makes it do:
 * it never answers a close frame, and it keeps writing after one, as a hostile client would.
 */
export class RawClient {
  readonly frames: RawFrame[] = []
  /** Resolves when the TCP connection is gone, whoever ended it. */
  readonly gone: Promise<void>
  private pending = Buffer.alloc(0)
  private waiters: Array<() => void> = []

  private constructor (readonly socket: Socket, head: Buffer) {
    socket.on('data', (chunk: Buffer) => { this.read(chunk) })
    // A reset is how a terminated socket may end: that is the point, not a failure.
    socket.on('error', () => {})
    this.gone = new Promise((resolve) => socket.once('close', () => {
      resolve()
      this.wake()
    }))
    if (head.length > 0) this.read(head)
  }

  /** Upgrades `url` (ws://host:port/path) with a bearer token. */
  static async connect (t: Teardown, url: string, bearer: string): Promise<RawClient> {
    const { hostname, port, pathname } = new URL(url)
    const upgrade = request({
      host: hostname,
      port,
      path: pathname,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        authorization: `Bearer ${bearer}`
      }
    })
    const client = await within(new Promise<RawClient>((resolve, reject) => {
      upgrade.once('upgrade', (_response, socket, head) => { resolve(new RawClient(socket, head)) })
      upgrade.once('response', (response) => { reject(new Error(`upgrade refused: ${String(response.statusCode)}`)) })
      upgrade.once('error', reject)
      upgrade.end()
    }), 5000, 'the upgrade')
    t.teardown(() => { client.socket.destroy() })
    return client
  }

  /** Writes one masked text frame, as clients must; false when the socket's buffer is full. */
  send (text: string): boolean {
    return this.socket.write(maskedFrame(TEXT, Buffer.from(text)))
  }

  /** Removes and returns the first frame that matches, waiting for it; rejects if the socket ends first. */
  async next (match: (frame: RawFrame) => boolean, timeoutMs = 5000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.frames.findIndex(match)
      if (index !== -1) return this.frames.splice(index, 1)[0] as RawFrame
      if (this.socket.destroyed) throw new Error('socket gone while waiting for a frame')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(0, 5))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async close (timeoutMs = 5000): Promise<RawFrame> {
    return await this.next((f) => f.opcode === CLOSE, timeoutMs)
  }

  private read (chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk])
    for (;;) {
      const frame = unframe(this.pending)
      if (frame === undefined) break
      this.pending = this.pending.subarray(frame.length)
      this.frames.push(frame.frame)
    }
    this.wake()
  }

  private wake (): void {
    for (const wake of this.waiters.splice(0)) wake()
  }
}

function maskedFrame (opcode: number, payload: Buffer): Buffer {
  const length = payload.length
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
  if (length > 0xffff) throw new Error('frame too long for this client')
  const mask = randomBytes(4)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([header, mask, masked])
}

/** The first whole (unmasked, server-sent) frame in `data` and its size in bytes, if there is one. */
function unframe (data: Buffer): { frame: RawFrame, length: number } | undefined {
  if (data.length < 2) return undefined
  const opcode = (data[0] as number) & 0x0f
  let length = (data[1] as number) & 0x7f
  let offset = 2
  if (length === 126) {
    if (data.length < 4) return undefined
    length = data.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    if (data.length < 10) return undefined
    length = Number(data.readBigUInt64BE(2))
    offset = 10
  }
  if (data.length < offset + length) return undefined
  const payload = data.subarray(offset, offset + length)
  const frame: RawFrame = opcode === CLOSE && length >= 2
    ? { opcode, code: payload.readUInt16BE(0), text: payload.subarray(2).toString() }
    : { opcode, text: payload.toString() }
  return { frame, length: offset + length }
}
