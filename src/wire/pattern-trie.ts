interface TrieNode<T> {
  children: Map<string, TrieNode<T>> | undefined
  /** Values of patterns that end at this node. */
  exact: Set<T> | undefined
  /** Values of patterns ending in `*` right below this node: one or more further segments. */
  tail: Set<T> | undefined
}

function node<T> (): TrieNode<T> {
  return { children: undefined, exact: undefined, tail: undefined }
}

/**
 * A segment trie from patterns (the grammar of `topics.ts`) to sets of values. Matching an event
 * type walks only the branches its segments (and `*`) lead to, so its cost does not grow with
 * unrelated patterns. It is the one matcher: the gateway finds a delivery's connections with it,
 * and the SDK the handlers an event goes to.
 */
export class PatternTrie<T> {
  private readonly root: TrieNode<T> = node()
  private patterns = 0

  /** Number of distinct patterns held. */
  get size (): number {
    return this.patterns
  }

  add (pattern: string, value: T): void {
    const segments = pattern.split('.')
    const last = segments.length - 1
    let current = this.root
    for (let i = 0; i < last; i++) current = child(current, segments[i] as string)
    const set = segments[last] === '*'
      ? (current.tail ??= new Set())
      : ((current = child(current, segments[last] as string)).exact ??= new Set())
    if (set.size === 0) this.patterns++
    set.add(value)
  }

  remove (pattern: string, value: T): void {
    const segments = pattern.split('.')
    const path: TrieNode<T>[] = [this.root]
    const last = segments.length - 1
    const wildcardEnd = segments[last] === '*'
    const depth = wildcardEnd ? last : segments.length
    for (let i = 0; i < depth; i++) {
      const next = path[i]?.children?.get(segments[i] as string)
      if (next === undefined) return
      path.push(next)
    }
    const end = path[depth] as TrieNode<T>
    const set = wildcardEnd ? end.tail : end.exact
    if (set === undefined || !set.delete(value)) return
    if (set.size === 0) {
      this.patterns--
      if (wildcardEnd) end.tail = undefined
      else end.exact = undefined
    }
    prune(path, segments)
  }

  /** Whether any pattern held matches `type`. */
  matches (type: string): boolean {
    let found = false
    this.match(type, () => { found = true })
    return found
  }

  /** Calls `visit` for every value whose pattern matches `type` (once per matching pattern). */
  match (type: string, visit: (value: T) => void): void {
    walk(this.root, type.split('.'), 0, visit)
  }
}

function child<T> (parent: TrieNode<T>, segment: string): TrieNode<T> {
  parent.children ??= new Map()
  let next = parent.children.get(segment)
  if (next === undefined) {
    next = node()
    parent.children.set(segment, next)
  }
  return next
}

function walk<T> (current: TrieNode<T>, segments: string[], i: number, visit: (value: T) => void): void {
  if (i === segments.length) {
    if (current.exact !== undefined) for (const value of current.exact) visit(value)
    return
  }
  if (current.tail !== undefined) for (const value of current.tail) visit(value)
  if (current.children === undefined) return
  const literal = current.children.get(segments[i] as string)
  if (literal !== undefined) walk(literal, segments, i + 1, visit)
  const star = current.children.get('*')
  if (star !== undefined) walk(star, segments, i + 1, visit)
}

/** Removes empty nodes from the deepest up, so the trie holds no branch for a pattern nobody uses. */
function prune<T> (path: TrieNode<T>[], segments: string[]): void {
  for (let i = path.length - 1; i > 0; i--) {
    const current = path[i] as TrieNode<T>
    if (current.exact !== undefined || current.tail !== undefined || (current.children?.size ?? 0) > 0) return
    path[i - 1]?.children?.delete(segments[i - 1] as string)
  }
}
