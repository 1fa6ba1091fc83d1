import type { Connection } from './connection.js'
import { ProtocolError } from './errors.js'
import { compareIds } from './event-id.js'
import type { History, HistoryPage } from './history.js'
import type { Hub } from './hub.js'
import { encodeEventFrame, EventFrame, type Fault } from './protocol.js'
import { PatternTrie } from './topics.js'

export interface ResumeContext {
  hub: Hub
  history: History
  /** The most events one resume replays: the history holds no more than this. */
  maxReplay: number
  /** The bus's position: every event after it reaches the hub from now on. */
  position: () => string | undefined
}

/** A reply whose `after` runs once the reply is sent: the replayed events follow it. */
export interface ResumeReply {
  type: 'subscribed'
  payload: { eventTypes: string[], replayed: number, truncated: boolean, position?: string }
  after: () => void
}

/** Events read back per history request. */
const PAGE = 1000

/**
 * `subscribe` with `since`: subscribes at once, holds the connection's live events back, reads
 * the history after `since`, and then sends the reply, the retained events that match the new
 * patterns (and that the connection may see), and the held live events, in that order. Events
 * that also match a pattern held before were delivered live and are not replayed; a held event
 * that was replayed is not sent twice. So the seam between replay and live has no gap and no
 * duplicate.
 */
export async function resume (ctx: ResumeContext, connection: Connection, patterns: string[], since: string): Promise<ResumeReply | Fault> {
  const heldBefore = new Set(connection.patterns)
  const before = trieOf([...heldBefore])
  const added = trieOf(patterns)
  connection.held ??= []
  ctx.hub.subscribe(connection, patterns)
  let page: HistoryPage
  try {
    page = await readAll(ctx.history, since, ctx.maxReplay)
  } catch {
    ctx.hub.unsubscribe(connection, patterns.filter((p) => !heldBefore.has(p)))
    release(ctx.hub, connection, () => true)
    return { code: ProtocolError.HISTORY_UNAVAILABLE, message: 'the event history is unreachable; subscribe again shortly' }
  }
  const replay = page.messages.filter(({ event }) =>
    added.matches(event.type) && !before.matches(event.type) && ctx.hub.visible(connection, event))
  const replayed = new Set(replay.map((m) => m.event.id))
  // A client that reconnects (no patterns yet) may come from an instance ahead of this one: its
  // `since`, and what was just replayed, must not come again from this bus, which can lag behind
  // (a slow link, a refill). Not when the history cannot place `since` (it may be any id), nor
  // with patterns held before: their events come live and cannot be told apart here.
  const floor = heldBefore.size === 0 && !page.truncated ? page.messages.at(-1)?.event.id ?? since : undefined
  connection.floor = floor
  const position = ctx.position()
  return {
    type: 'subscribed',
    payload: { eventTypes: patterns, replayed: replay.length, truncated: page.truncated, ...(position === undefined ? {} : { position }) },
    after: () => {
      for (const { event, json } of replay) ctx.hub.sendEvent(connection, event.id, new EventFrame(encodeEventFrame(json)))
      release(ctx.hub, connection, (id) => !replayed.has(id) && (floor === undefined || compareIds(id, floor) > 0))
    }
  }
}

function release (hub: Hub, connection: Connection, keep: (id: string) => boolean): void {
  const held = connection.held ?? []
  connection.held = undefined
  for (const { id, frame } of held) if (keep(id)) hub.sendEvent(connection, id, frame)
}

async function readAll (history: History, since: string, max: number): Promise<HistoryPage> {
  const first = await history.after(since, Math.min(PAGE, max))
  const messages = [...first.messages]
  let last = messages.at(-1)?.event.id
  while (last !== undefined && messages.length < max) {
    const next = await history.after(last, Math.min(PAGE, max - messages.length))
    messages.push(...next.messages)
    last = next.messages.length === 0 ? undefined : next.messages.at(-1)?.event.id
  }
  // A resume that would replay more than the history holds has lost events all the same.
  return { messages, truncated: first.truncated || messages.length >= max }
}

function trieOf (patterns: readonly string[]): PatternTrie<true> {
  const trie = new PatternTrie<true>()
  for (const pattern of patterns) trie.add(pattern, true)
  return trie
}
