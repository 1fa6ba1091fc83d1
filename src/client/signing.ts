import type { RequestType } from '../wire/frames.js'
import { canonicalForm, newNonce, WebSigner } from '../wire/signing.js'
import type { ServerFrame } from './frames.js'

/**
 * The `signingSecret` option: requests go out signed, and the gateway's frames count only when
 * their signature holds (docs/protocol.md, Signed frames). For services sharing
 * MESSAGE_SIGNING_SECRET with the gateway; a secret shipped to a browser is no secret.
 */
export class FrameSigning {
  private readonly signer: WebSigner

  constructor (secret: string) {
    this.signer = new WebSigner(secret)
  }

  /** A request frame with its `timestamp`, `nonce` and `signature`. */
  async seal (type: RequestType, id: string, payload: Record<string, unknown> = {}): Promise<string> {
    const timestamp = Date.now()
    const nonce = newNonce()
    const signature = await this.signer.sign(canonicalForm(type, id, timestamp, nonce, JSON.stringify(payload)))
    return JSON.stringify({ type, id, payload, timestamp, nonce, signature })
  }

  /** Whether the gateway signed `frame` as it reads; an unsigned frame does not hold. */
  async holds (frame: ServerFrame): Promise<boolean> {
    const { timestamp, nonce, signature } = frame.seal
    if (typeof timestamp !== 'number' || typeof nonce !== 'string' || typeof signature !== 'string') return false
    return await this.signer.verify(canonicalForm(frame.type, frame.id, timestamp, nonce, JSON.stringify(frame.payload)), signature)
  }
}
