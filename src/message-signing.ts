import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { ProtocolError } from './errors.js'
import type { ClientFrame, Fault, Sealer } from './protocol.js'
import type { Store } from './store/store.js'
import { canonicalForm, sealProblem, SIGNATURE_SKEW_MS } from './wire/signing.js'

export const SIGNATURE_REFUSALS = ['unsigned', 'malformed', 'stale', 'bad_signature', 'replayed'] as const
export type SignatureRefusal = (typeof SIGNATURE_REFUSALS)[number]

/**
 * A nonce is remembered while a frame bearing it could still pass the skew check anywhere: its
 * timestamp may lie up to the skew ahead of one clock and be read up to the skew behind another.
 */
const NONCE_TTL_MS = 2 * SIGNATURE_SKEW_MS

const REFUSALS: Record<SignatureRefusal, Omit<Fault, 'id'>> = {
  unsigned: { code: ProtocolError.INVALID_SIGNATURE, message: 'frames must carry timestamp, nonce and signature' },
  malformed: { code: ProtocolError.INVALID_SIGNATURE, message: 'timestamp must be epoch milliseconds, nonce 16-64 characters of [A-Za-z0-9_-], signature 64 lowercase hex digits' },
  bad_signature: { code: ProtocolError.INVALID_SIGNATURE, message: 'the signature does not match the frame' },
  stale: { code: ProtocolError.REPLAYED, message: `timestamp is more than ${SIGNATURE_SKEW_MS / 1000} s from the gateway's clock` },
  replayed: { code: ProtocolError.REPLAYED, message: 'the nonce was already used' }
}

/**
 * MESSAGE_SIGNING_SECRET at work: seals every server frame and checks every client frame's seal
 * (src/wire/signing.ts holds the canonical form). Nonces are claimed in the shared store, so a
 * frame replayed to another instance is refused there too.
 */
export class MessageSigning {
  /** Client frames refused, by why: the metrics read them. */
  readonly refusals: Record<SignatureRefusal, number> = { unsigned: 0, malformed: 0, stale: 0, bad_signature: 0, replayed: 0 }

  constructor (private readonly secret: string, private readonly store: Pick<Store, 'claim'>, private readonly now: () => number = Date.now) {}

  readonly seal: Sealer = (type, id, payloadJson) => {
    const timestamp = this.now()
    const nonce = randomBytes(16).toString('hex')
    const signature = this.mac(canonicalForm(type, id, timestamp, nonce, payloadJson)).toString('hex')
    return `,"timestamp":${timestamp},"nonce":"${nonce}","signature":"${signature}"`
  }

  /** The fault to answer `frame` with, or undefined when its seal holds and its nonce is new. */
  async check (frame: ClientFrame): Promise<Fault | undefined> {
    const refusal = await this.refusal(frame)
    if (refusal === undefined) return undefined
    this.refusals[refusal]++
    return { ...REFUSALS[refusal], id: frame.id }
  }

  private async refusal ({ type, id, payload, seal }: ClientFrame): Promise<SignatureRefusal | undefined> {
    const problem = sealProblem(seal, this.now())
    if (problem !== undefined) return problem
    const timestamp = seal.timestamp as number
    const nonce = seal.nonce as string
    const expected = this.mac(canonicalForm(type, id, timestamp, nonce, JSON.stringify(payload)))
    if (!timingSafeEqual(expected, Buffer.from(seal.signature as string, 'hex'))) return 'bad_signature'
    // Claimed only once the signature holds: without the secret, nothing is written to the store.
    return await this.store.claim(`nonce:${nonce}`, NONCE_TTL_MS) ? undefined : 'replayed'
  }

  private mac (canonical: string): Buffer {
    return createHmac('sha256', this.secret).update(canonical).digest()
  }
}
