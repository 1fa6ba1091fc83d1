import { PatternTrie } from '../wire/pattern-trie.js'
import { EventgateError } from './errors.js'
import type { EventHandler, GatewayEvent } from './types.js'

interface Waiter {
  resolve: () => void
  reject: (err: EventgateError) => void
}

interface Entry {
  handlers: Set<EventHandler>
  /** The gateway accepted the pattern once: it is resubscribed, with `since`, on every reconnect. */
  accepted: boolean
  waiters: Waiter[]
}

/** The application's patterns and their handlers, kept across connections. */
export class Subscriptions {
  private readonly entries = new Map<string, Entry>()
  /** The entries by pattern, matched as the gateway matches them: the same trie. */
  private readonly matcher = new PatternTrie<Entry>()

  /** Adds a handler; true when the pattern is new and must be sent to the gateway. */
  add (pattern: string, handler: EventHandler): boolean {
    const entry = this.entries.get(pattern)
    if (entry !== undefined) {
      entry.handlers.add(handler)
      return false
    }
    const created: Entry = { handlers: new Set([handler]), accepted: false, waiters: [] }
    this.entries.set(pattern, created)
    this.matcher.add(pattern, created)
    return true
  }

  /** Removes one handler, or all; true when no handler is left and the pattern is gone. */
  remove (pattern: string, handler?: EventHandler): boolean {
    const entry = this.entries.get(pattern)
    if (entry === undefined) return false
    if (handler !== undefined) entry.handlers.delete(handler)
    if (handler !== undefined && entry.handlers.size > 0) return false
    this.forget(pattern, entry)
    // Unsubscribed before the gateway answered: the subscription happened, and ended.
    for (const waiter of entry.waiters) waiter.resolve()
    return true
  }

  /** Resolves once the gateway has accepted the pattern (at once if it already had). */
  async accepted (pattern: string): Promise<void> {
    const entry = this.entries.get(pattern)
    if (entry === undefined || entry.accepted) return
    await new Promise<void>((resolve, reject) => { entry.waiters.push({ resolve, reject }) })
  }

  /** The gateway's `subscribed` reply. */
  accept (patterns: readonly string[]): void {
    for (const pattern of patterns) {
      const entry = this.entries.get(pattern)
      if (entry === undefined) continue
      entry.accepted = true
      for (const waiter of entry.waiters.splice(0)) waiter.resolve()
    }
  }

  /** The gateway refused a pattern never accepted: it is dropped, and its `subscribe` calls reject. */
  refuse (patterns: readonly string[], err: EventgateError): void {
    for (const pattern of patterns) {
      const entry = this.entries.get(pattern)
      if (entry === undefined || entry.accepted) continue
      this.forget(pattern, entry)
      for (const waiter of entry.waiters) waiter.reject(err)
    }
  }

  /** Every pending `subscribe` rejects: the client is closed. */
  abandon (err: EventgateError): void {
    for (const entry of this.entries.values()) for (const waiter of entry.waiters.splice(0)) waiter.reject(err)
  }

  patterns (accepted: boolean): string[] {
    return [...this.entries].filter(([, entry]) => entry.accepted === accepted).map(([pattern]) => pattern)
  }

  /**
   * Calls every handler whose pattern matches the event, once each. An event that arrives just
   * after its pattern was unsubscribed (the gateway sent it before it read the unsubscribe)
   * matches no entry any more and reaches no handler of that pattern.
   */
  dispatch (event: GatewayEvent, onThrow: (err: unknown) => void): void {
    const called = new Set<EventHandler>()
    this.matcher.match(event.type, (entry) => {
      for (const handler of entry.handlers) {
        if (called.has(handler)) continue
        called.add(handler)
        try {
          handler(event)
        } catch (err) {
          onThrow(err)
        }
      }
    })
  }

  private forget (pattern: string, entry: Entry): void {
    this.entries.delete(pattern)
    this.matcher.remove(pattern, entry)
  }
}
