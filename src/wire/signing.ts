/**
 * Signed frames, for services that share MESSAGE_SIGNING_SECRET with the gateway. A signed
 * frame carries `timestamp` (epoch milliseconds), `nonce` and `signature`: the lowercase hex
 * HMAC-SHA256, keyed with the secret's UTF-8 bytes, of the canonical form below. Node-free
 * (WebCrypto) so the SDK shares it; the gateway signs with the same form synchronously.
 */

/** How far a frame's timestamp may stand from the receiver's clock, either way. */
export const SIGNATURE_SKEW_MS = 60_000
export const MIN_SIGNING_SECRET_LENGTH = 32
/** Bounded so a remembered nonce costs little in the store: 16 to 64 URL-safe characters. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/

export interface Seal {
  timestamp: number
  nonce: string
  signature: string
}

/**
 * `type`, the id as JSON (empty when absent, so `"1"` and `1` differ), timestamp, nonce and the
 * payload as JSON.stringify writes it (`{}` when absent), joined by newlines. The payload is the
 * parsed object written again, not the bytes received: what both ends can rebuild exactly.
 */
export function canonicalForm (type: string, id: string | number | undefined, timestamp: number, nonce: string, payloadJson: string): string {
  return `${type}\n${id === undefined ? '' : JSON.stringify(id)}\n${timestamp}\n${nonce}\n${payloadJson}`
}

/** Why a seal is refused, or undefined when its shape and time are acceptable. */
export function sealProblem (seal: { timestamp?: unknown, nonce?: unknown, signature?: unknown }, now: number): 'unsigned' | 'malformed' | 'stale' | undefined {
  const { timestamp, nonce, signature } = seal
  if (timestamp === undefined && nonce === undefined && signature === undefined) return 'unsigned'
  if (!Number.isSafeInteger(timestamp) || typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) return 'malformed'
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return 'malformed'
  return Math.abs(now - (timestamp as number)) > SIGNATURE_SKEW_MS ? 'stale' : undefined
}

/** A fresh nonce: 16 random bytes in hex. */
export function newNonce (): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  return toHex(bytes)
}

/**
 * WebCrypto's key, named through the API that makes it: the global `CryptoKey` type comes with the
 * DOM library, which the gateway's build does not load.
 */
type HmacKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>

/** Signs and verifies canonical forms with WebCrypto; the key is imported once. */
export class WebSigner {
  private readonly key: Promise<HmacKey>

  constructor (secret: string) {
    this.key = globalThis.crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
  }

  async sign (canonical: string): Promise<string> {
    const mac = await globalThis.crypto.subtle.sign('HMAC', await this.key, new TextEncoder().encode(canonical))
    return toHex(new Uint8Array(mac))
  }

  /** Constant-time: WebCrypto's own verify compares the MACs. */
  async verify (canonical: string, signature: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(signature)) return false
    return await globalThis.crypto.subtle.verify('HMAC', await this.key, fromHex(signature), new TextEncoder().encode(canonical))
  }
}

function toHex (bytes: Uint8Array): string {
  let hex = ''
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return hex
}

function fromHex (hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return bytes
}
