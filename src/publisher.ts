import type { Bus } from './bus/bus.js'
import { createDraft, type EventInput } from './events.js'

export interface PublishOptions {
  /** Who publishes: idempotency keys are theirs alone. */
  publisher: string
  /** The request's `Idempotency-Key`. */
  requestKey?: string | undefined
}

type IdempotencyKind = 'request' | 'event'

/**
 * The key a publisher's idempotency key is remembered under: no two (publisher, kind, key)
 * triples share one. Both the publisher id and the key may hold `:`, so a plain join would let
 * publisher `billing` with key `2024:request:k1` replay the ids of publisher
 * `billing:request:2024` with key `k1`. The publisher goes in as a JSON string, which ends at its
 * first unescaped quote whatever it holds, and escapes lone surrogates that UTF-8 would merge.
 */
export function idempotencyScope (publisher: string, kind: IdempotencyKind, key: string): string {
  return `${JSON.stringify(publisher)}:${kind}:${key}`
}

/** Turns accepted input into drafts and hands them to the bus, which gives them their ids. */
export class Publisher {
  private published = 0
  private readonly listeners: Array<(inputs: readonly EventInput[]) => void> = []

  constructor (private readonly bus: Bus, private readonly idempotencyTtlMs: number) {}

  get count (): number {
    return this.published
  }

  /** Sees every batch once it is in the history, as `count` counts it. */
  onPublished (listener: (inputs: readonly EventInput[]) => void): void {
    this.listeners.push(listener)
  }

  /** Resolves with the ids, in input order, once the events are in the history. */
  async publish (inputs: readonly EventInput[], options?: PublishOptions): Promise<string[]> {
    const now = new Date()
    const scoped = (key: string | undefined, kind: IdempotencyKind): string | undefined =>
      key === undefined || options === undefined ? undefined : idempotencyScope(options.publisher, kind, key)
    const ids = await this.bus.publish(inputs.map((input) => createDraft(input, now)), {
      ttlMs: this.idempotencyTtlMs,
      requestKey: scoped(options?.requestKey, 'request'),
      eventKeys: inputs.map((input) => scoped(input.idempotencyKey, 'event'))
    })
    this.published += inputs.length
    for (const listener of this.listeners) listener(inputs)
    return ids
  }
}
