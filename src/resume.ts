import type { Bus, BusMessage } from './bus/bus.js'
import type { Connection } from './connection.js'
import { ProtocolError } from './errors.js'
import type { History } from './history.js'
import type { Hub } from './hub.js'
import type { Fault } from './protocol.js'
import type { ReplayGate } from './replay-gate.js'
import { compareIds, partitionOf } from './wire/event-id.js'
import { PatternTrie } from './wire/pattern-trie.js'
import { formatPosition, type Position } from './wire/position.js'

export interface ResumeContext {
  hub: Hub
  history: History
  /** The most events one resume reads of a partition: its history holds no more than this. */
  maxReplay: number
  /** RESUME_MAX_BYTES: the most event JSON one replay holds and sends. */
  maxReplayBytes: number
  /** EVENT_MAX_DATA_BYTES: sets how many events one history read may ask for. */
  maxDataBytes: number
  /** Bounds the resumes reading the history at once. */
  replays: ReplayGate
  /** The partitions of the event log, and where this instance stands in each it reads. */
  reads: Pick<Bus, 'partitioning' | 'positionOf' | 'read' | 'unread' | 'connected'>
}

/**
 * Where this instance stands in the partitions a connection reads: every event after it
 * reaches the connection from now on. Undefined while it stands nowhere yet.
 */
export function positionFor (ctx: ResumeContext, connection: Connection): string | undefined {
  const position: Position = new Map()
  for (const partition of connection.reads) {
    const id = ctx.reads.positionOf(partition)
    if (id !== undefined) position.set(partition, id)
  }
  return position.size === 0 ? undefined : formatPosition(position)
}

/** A reply whose `after` runs once the reply is sent: the replayed events follow it. */
export interface ResumeReply {
  type: 'subscribed'
  payload: { eventTypes: string[], replayed: number, truncated: boolean, position?: string }
  after: () => void
}

/**
 * How a `subscribe` with `since` was answered: every event after `since` replayed (`resumed`),
 * some of them possibly lost (`truncated`), or none read (`unavailable`, HISTORY_UNAVAILABLE).
 * A replay cut off at RESUME_MAX_BYTES is `resumed`: nothing is lost, the client resumes again
 * from the last event it was sent.
 */
export const RESUME_OUTCOMES = ['resumed', 'truncated', 'unavailable'] as const
export type ResumeOutcome = typeof RESUME_OUTCOMES[number]

/**
 * What one history read may hold at worst: a page of events at EVENT_MAX_DATA_BYTES each. The
 * events a resume keeps are few (its user's, within RESUME_MAX_BYTES) but it reads through
 * everyone's: the page, not the replay, is what reading costs, times RESUME_CONCURRENCY.
 */
const PAGE_BYTES = 4 * 1024 * 1024
/** Events per read at most: more saves few round trips, and 100 × 32 KiB (the default) is 3.2 MiB. */
const PAGE_EVENTS = 100

/** Nobody reads it: the socket closed while the resume waited for its turn. */
const CLOSED: Fault = { code: ProtocolError.HISTORY_UNAVAILABLE, message: 'the connection closed before the history was read' }

/**
 * `subscribe` with `since`: waits for a turn to read the history (a replay costs memory and
 * Redis round trips), subscribes, holds the connection's live events back, reads the history
 * after `since` page by page, keeping only the events that match the new patterns and that the
 * connection may see, and then sends the reply, the kept events, and the held live events, in
 * that order. Events that also match a pattern held before were delivered live and are not
 * replayed; a held event that was replayed is not sent twice. So the seam between replay and
 * live has no gap and no duplicate.
 *
 * The replay holds and sends at most RESUME_MAX_BYTES. When the events to replay exceed it, the
 * oldest are sent and the connection is closed as a slow consumer, told the last one: the
 * client resumes from there, and the held live events, which would follow a gap, are dropped.
 */
export async function resume (ctx: ResumeContext, connection: Connection, patterns: string[], since: Position): Promise<ResumeReply | Fault> {
  const leave = await ctx.replays.enter(connection.identity.userId, connection)
  if (leave === undefined) return CLOSED
  try {
    return await replay(ctx, connection, patterns, since)
  } finally {
    leave()
  }
}

async function replay (ctx: ResumeContext, connection: Connection, patterns: string[], since: Position): Promise<ResumeReply | Fault> {
  const heldBefore = new Set(connection.patterns)
  const before = trieOf([...heldBefore])
  const added = trieOf(patterns)
  connection.held ??= []
  ctx.hub.subscribe(connection, patterns)
  let read: Read
  try {
    read = await readVisible(ctx, connection, since, ({ event }) =>
      added.matches(event.type) && !before.matches(event.type) && ctx.hub.visible(connection, event))
  } catch {
    ctx.hub.unsubscribe(connection, patterns.filter((p) => !heldBefore.has(p)))
    release(ctx.hub, connection, () => true)
    return { code: ProtocolError.HISTORY_UNAVAILABLE, message: 'the event history is unreachable; subscribe again shortly' }
  }
  const { kept, truncated, floor, full } = read
  const replayed = new Set(kept.map((m) => m.event.id))
  // A client that reconnects (no patterns yet) may come from an instance ahead of this one: its
  // `since`, and what was just read, must not come again from this bus, which can lag behind
  // (a slow link, a refill). Not in a partition whose history cannot place `since` (it may be
  // any id), nor with patterns held before: their events come live and cannot be told apart here.
  const floored = heldBefore.size === 0 && !full && floor.size > 0
  // A copy: the hub drops a partition's entry once past it, and the held events need them all.
  connection.floor = floored ? new Map(floor) : undefined
  const below = (id: string): boolean => {
    const mark = floor.get(partitionOf(id))
    return floored && mark !== undefined && compareIds(id, mark) <= 0
  }
  const position = positionFor(ctx, connection)
  return {
    type: 'subscribed',
    payload: { eventTypes: patterns, replayed: kept.length, truncated, ...(position === undefined ? {} : { position }) },
    after: () => {
      for (const { event, json } of kept) ctx.hub.sendEvent(connection, event.id, ctx.hub.eventFrame(json))
      if (full) {
        connection.held = undefined
        ctx.hub.cutOff(connection, 'replay reached RESUME_MAX_BYTES, closing')
        return
      }
      release(ctx.hub, connection, (id) => !replayed.has(id) && !below(id))
    }
  }
}

function release (hub: Hub, connection: Connection, keep: (id: string) => boolean): void {
  const held = connection.held ?? []
  connection.held = undefined
  for (const { id, frame } of held) if (keep(id)) hub.sendEvent(connection, id, frame)
}

interface Read {
  /** The events to replay, oldest first. */
  kept: BusMessage[]
  /** True when events after `since` may have been trimmed (or the history was lost) in a partition. */
  truncated: boolean
  /** Per partition whose history placed `since`: the newest event read, kept or not, or `since`. */
  floor: Position
  /** True when the events to replay went past RESUME_MAX_BYTES: `kept` is their beginning. */
  full: boolean
}

/**
 * Reads the history after `since` a page at a time, partition after partition (the ones the
 * connection reads), keeping the events `keep` accepts and dropping the others at once, so a
 * resume holds what it replays and one page, never the whole history. A partition `since` does
 * not name cannot be placed: nothing of it is replayed, and the reply says `truncated`. Sizes
 * count UTF-16 units of the event JSON, near its bytes and free to read.
 */
async function readVisible (ctx: ResumeContext, connection: Connection, since: Position, keep: (message: BusMessage) => boolean): Promise<Read> {
  const pageEvents = Math.max(1, Math.min(PAGE_EVENTS, Math.floor(PAGE_BYTES / ctx.maxDataBytes)))
  const kept: BusMessage[] = []
  const floor: Position = new Map()
  let truncated = false
  let bytes = 0
  for (const partition of connection.reads) {
    const from = since.get(partition)
    if (from === undefined) {
      truncated = true
      continue
    }
    let lost: boolean | undefined
    let count = 0
    let last = from
    // A socket that closed meanwhile gets nothing: reading on would only cost the others.
    while (count < ctx.maxReplay && connection.open) {
      const page = await ctx.history.after(last, Math.min(pageEvents, ctx.maxReplay - count))
      lost ??= page.truncated
      for (const message of page.messages) {
        if (keep(message)) {
          bytes += message.json.length
          // The first event always goes, however large: a client must get past it on its next try.
          if (bytes > ctx.maxReplayBytes && kept.length > 0) return { kept, truncated, floor, full: true }
          kept.push(message)
        }
        last = message.event.id
      }
      if (page.messages.length === 0) break
      count += page.messages.length
    }
    // A resume that would replay more than the history holds has lost events all the same.
    if (lost === true || count >= ctx.maxReplay) truncated = true
    else floor.set(partition, last)
  }
  return { kept, truncated, floor, full: false }
}

function trieOf (patterns: readonly string[]): PatternTrie<true> {
  const trie = new PatternTrie<true>()
  for (const pattern of patterns) trie.add(pattern, true)
  return trie
}
