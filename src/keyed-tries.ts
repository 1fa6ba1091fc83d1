import { PatternTrie } from './wire/pattern-trie.js'

/**
 * One pattern trie per key (a user, a room), made with its first pattern and dropped with its
 * last: an event for a key walks that key's subscriptions alone, whatever the others hold.
 */
export class KeyedTries<T> {
  private readonly tries = new Map<string, PatternTrie<T>>()

  add (key: string, pattern: string, value: T): void {
    let trie = this.tries.get(key)
    if (trie === undefined) this.tries.set(key, trie = new PatternTrie())
    trie.add(pattern, value)
  }

  remove (key: string, pattern: string, value: T): void {
    const trie = this.tries.get(key)
    trie?.remove(pattern, value)
    if (trie?.size === 0) this.tries.delete(key)
  }

  match (key: string, type: string, visit: (value: T) => void): void {
    this.tries.get(key)?.match(type, visit)
  }

  /** Keys with at least one subscription. */
  get size (): number {
    return this.tries.size
  }
}
