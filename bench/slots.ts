import type { PhaseOptions } from './lab.js'

/**
 * Where each delivery a phase is due is counted: every (client, event) pair the phase expects
 * has one slot in the tally, so a delivery counts once and one to a client that was not due it
 * is caught. Event k (of the phase's `count`) has its user's slot at k and the slot of the d-th
 * client that gets every event at (1 + d) · count + k; the broadcasts' audiences follow, one
 * block per broadcast.
 */
export interface SlotLayout {
  expected: number
  /** The slot of event `seq` delivered to `client`, or -1 if the client was not due it. */
  slot: (client: number, seq: number) => number
  /** Every slot event `seq` is due in: excused when its publish failed. */
  slotsOf: (seq: number) => Iterable<number>
  /** Slots laid out but never due (a broadcast's user slot): excused from the start. */
  unused: number[]
}

type Audience = PhaseOptions['everyEvent']

const within = (client: number, range: Audience): boolean => client >= range.from && client < range.from + range.count

export function slotLayout (firstSeq: number, count: number, options: Pick<PhaseOptions, 'users' | 'everyEvent' | 'broadcasts'>): SlotLayout {
  const every = options.everyEvent
  const direct = options.users === undefined ? 0 : 1
  const { base, count: userCount } = options.users ?? { base: 0, count: 1 }
  const perEvent = count * (direct + every.count)
  const period = options.broadcasts?.every ?? Number.POSITIVE_INFINITY
  const audience = options.broadcasts?.audience ?? { from: 0, count: 0 }
  const isBroadcast = (seq: number): boolean => Number.isFinite(period) && seq % period === 0
  // Broadcasts are the events whose seq is a multiple of the period, the first at or after firstSeq.
  const firstBroadcast = Number.isFinite(period) ? Math.ceil(firstSeq / period) * period : firstSeq + count
  const broadcastSeqs: number[] = []
  for (let seq = firstBroadcast; seq < firstSeq + count; seq += period) broadcastSeqs.push(seq)
  const audienceSlot = (seq: number, client: number): number => perEvent + (seq - firstBroadcast) / period * audience.count + client - audience.from
  return {
    expected: perEvent + broadcastSeqs.length * audience.count,
    slot (client, seq) {
      const k = seq - firstSeq
      if (k < 0 || k >= count) return -1
      if (within(client, every)) return (direct + client - every.from) * count + k
      if (isBroadcast(seq)) return within(client, audience) ? audienceSlot(seq, client) : -1
      return direct === 1 && client === base + seq % userCount ? k : -1
    },
    * slotsOf (seq) {
      const k = seq - firstSeq
      for (let d = 0; d < direct + every.count; d++) yield d * count + k
      if (!isBroadcast(seq)) return
      for (let a = 0; a < audience.count; a++) yield audienceSlot(seq, audience.from + a)
    },
    unused: direct === 1 ? broadcastSeqs.map((seq) => seq - firstSeq) : []
  }
}
