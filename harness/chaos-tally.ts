import type { SteadyPublisher } from './chaos-publisher.js'
import type { ResumingSubscriber } from './chaos-subscriber.js'
import { until } from './ports.js'

/** What a run counts; `lost`, `duplicates`, `outOfOrder`, `unexpected` and `republished` must all be 0. */
export interface ChaosCounts {
  scenario: string
  /** Events the publisher tried to publish, and those answered 202. */
  published: number
  accepted: number
  /** Accepted events times the subscribers entitled to each, and what arrived. */
  expected: number
  delivered: number
  lost: number
  duplicates: number
  outOfOrder: number
  /** Events a subscriber received that were never published, or were not its to see. */
  unexpected: number
  /** One event delivered under two ids: a retry published it again. */
  republished: number
  /**
   * Events delivered whose publisher gave up on them (no 202 within its deadline): not a broken
   * promise, a run too heavy for the machine.
   */
  unacknowledged: number
  faults: number
  attempts: number
  refused503: number
  connectionErrors: number
  rejected: number
  gaveUp: number
  idCollisions: number
  /** Sockets opened after the first, subscriptions resumed with `since`, events they replayed. */
  reconnects: number
  resumes: number
  replayed: number
  truncated: number
  ms: number
}

const entitled = (userId: string | undefined, subscriber: ResumingSubscriber): boolean =>
  userId === undefined || userId === subscriber.userId

/** Resolves once every subscriber has every event it is entitled to, or after `timeoutMs`: the tally tells. */
export async function settled (publisher: SteadyPublisher, subscribers: readonly ResumingSubscriber[], timeoutMs: number): Promise<void> {
  const missing = subscribers.map((s) => ({ s, ids: [...publisher.accepted].filter(([, a]) => entitled(a.userId, s)).map(([id]) => id) }))
  try {
    await until(() => {
      for (const m of missing) m.ids = m.ids.filter((id) => !m.s.seen.has(id))
      return missing.every((m) => m.ids.length === 0)
    }, timeoutMs, 'every subscriber to receive every accepted event')
  } catch {
    // What is still missing is counted as lost.
  }
}

export function tally (scenario: string, faults: number, publisher: SteadyPublisher, subscribers: readonly ResumingSubscriber[], ms: number): ChaosCounts {
  const sum = (pick: (s: ResumingSubscriber) => number): number => subscribers.reduce((n, s) => n + pick(s), 0)
  const acceptedSeqs = new Set([...publisher.accepted.values()].map((a) => a.seq))
  let expected = 0
  let lost = 0
  let unexpected = 0
  let republished = 0
  let unacknowledged = 0
  for (const subscriber of subscribers) {
    for (const [id, { userId }] of publisher.accepted) {
      if (!entitled(userId, subscriber)) continue
      expected++
      if (!subscriber.seen.has(id)) lost++
    }
    for (const [id, seq] of subscriber.seen) {
      const accepted = publisher.accepted.get(id)
      if (accepted !== undefined) {
        if (!entitled(accepted.userId, subscriber)) unexpected++
      } else if (acceptedSeqs.has(seq)) {
        republished++
      } else if (publisher.abandoned.has(seq)) {
        unacknowledged++
      } else {
        unexpected++
      }
    }
  }
  const { published, accepted, attempts, refused503, connectionErrors, rejected, gaveUp, idCollisions } = publisher.counts
  return {
    scenario,
    published,
    accepted,
    expected,
    delivered: sum((s) => s.counts.delivered),
    lost,
    duplicates: sum((s) => s.counts.duplicates),
    outOfOrder: sum((s) => s.counts.outOfOrder),
    unexpected: unexpected + sum((s) => s.counts.unentitled),
    republished,
    unacknowledged,
    faults,
    attempts,
    refused503,
    connectionErrors,
    rejected,
    gaveUp,
    idCollisions,
    reconnects: sum((s) => s.counts.connections - 1),
    resumes: sum((s) => s.counts.resumes),
    replayed: sum((s) => s.counts.replayed),
    truncated: sum((s) => s.counts.truncated),
    ms: Math.round(ms)
  }
}
