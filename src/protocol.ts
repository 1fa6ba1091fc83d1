import { ProtocolError, type ProtocolErrorCode } from './errors.js'
import { MAX_REQUEST_ID_LENGTH, MAX_REQUEST_TYPE_LENGTH, type ServerFrameType } from './wire/frames.js'

/** A request from a client, after validation. Until then a frame is `unknown`. */
export interface ClientFrame {
  type: string
  id: string | number | undefined
  payload: Record<string, unknown>
  /** The members a signed frame carries; `unknown` until MessageSigning checks them. */
  seal: { timestamp: unknown, nonce: unknown, signature: unknown }
}

/**
 * Signs a server frame under MESSAGE_SIGNING_SECRET: the `timestamp`, `nonce` and `signature`
 * members to append to it, leading comma included.
 */
export type Sealer = (type: string, id: string | number | undefined, payloadJson: string) => string

export interface Fault {
  code: ProtocolErrorCode
  message: string
  id?: string | number | undefined
}

export function isFault (value: unknown): value is Fault {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value
}

export function parseClientFrame (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ClientFrame | Fault {
  if (isBinary) return fault('binary frames are not supported; send JSON text frames')
  let value: unknown
  try {
    value = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(toBuffers(data)).toString('utf8'))
  } catch {
    return fault('frame is not valid JSON')
  }
  if (!isPlainObject(value)) return fault('frame must be a JSON object')
  const { type, id, payload, timestamp, nonce, signature } = value
  const validId = validRequestId(id)
  if (validId === null) return fault(`id must be a string of at most ${MAX_REQUEST_ID_LENGTH} characters or a finite number`)
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_REQUEST_TYPE_LENGTH) {
    return fault('type must be a non-empty string', validId)
  }
  if (payload !== undefined && !isPlainObject(payload)) return fault('payload must be a JSON object', validId)
  return { type, id: validId, payload: payload ?? {}, seal: { timestamp, nonce, signature } }
}

/** Encodes a server frame, sealed when `seal` is given. `id` echoes the request it answers, when there is one. */
export function encodeFrame (type: ServerFrameType, id: string | number | undefined, payload: unknown, seal?: Sealer): string {
  if (seal === undefined) return JSON.stringify(id === undefined ? { type, payload } : { type, id, payload })
  const payloadJson = JSON.stringify(payload)
  return `{"type":"${type}"${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"payload":${payloadJson}${seal(type, id, payloadJson)}}`
}

export function encodeFault (f: Fault, seal?: Sealer): string {
  return encodeFrame('error', f.id, { code: f.code, message: f.message }, seal)
}

/** Wraps an event's JSON into an `event` frame without parsing it again; sealed once for all its recipients. */
export function encodeEventFrame (eventJson: string, seal?: Sealer): Buffer {
  return Buffer.from(`{"type":"event","payload":${eventJson}${seal === undefined ? '' : seal('event', undefined, eventJson)}}`)
}

/**
 * An `event` frame built once for all its recipients: its text, and the complete WebSocket
 * frame around it, made on first need. Writing those same bytes to every socket spares ws
 * framing the text again for each one (an options object, a header buffer and two writes per
 * socket): the cost that grows with subscribers.
 */
export class EventFrame {
  private framed: Buffer | undefined

  constructor (readonly text: Buffer) {}

  get wire (): Buffer {
    return (this.framed ??= textFrame(this.text))
  }
}

/**
 * A final, unmasked, uncompressed text frame (RFC 6455 §5.2): what a server sends when
 * permessage-deflate is off. The payload length takes 7 bits, or 126 and 16 bits, or 127 and 64.
 */
export function textFrame (payload: Buffer): Buffer {
  const length = payload.length
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = 0x81
  if (header === 2) {
    frame[1] = length
  } else if (header === 4) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  payload.copy(frame, header)
  return frame
}

function fault (message: string, id?: string | number): Fault {
  return { code: ProtocolError.INVALID_MESSAGE, message, id }
}

/** undefined: no id; null: an id that cannot be echoed. */
function validRequestId (id: unknown): string | number | undefined | null {
  if (id === undefined) return undefined
  if (typeof id === 'string' && id.length <= MAX_REQUEST_ID_LENGTH) return id
  if (typeof id === 'number' && Number.isFinite(id)) return id
  return null
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function toBuffers (data: ArrayBuffer | Buffer[]): Buffer[] {
  return Array.isArray(data) ? data : [Buffer.from(data)]
}
