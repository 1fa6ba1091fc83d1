import t from 'tap'
import { PatternTrie } from '../../../src/wire/pattern-trie.js'

function matches (trie: PatternTrie<string>, type: string): string[] {
  const seen: string[] = []
  trie.match(type, (value) => seen.push(value))
  return seen.sort()
}

// [pattern, event type, matches?]
const cases: Array<[string, string, boolean]> = [
  ['*', 'a', true],
  ['*', 'authentication.login.success', true],
  ['authentication.login', 'authentication.login', true],
  ['authentication.login', 'authentication.logout', false],
  ['authentication.login', 'authentication.login.success', false],
  ['authentication.login', 'authentication', false],
  ['authentication.*', 'authentication.logout', true],
  ['authentication.*', 'authentication.login.success', true],
  ['authentication.*', 'authentication', false],
  ['authentication.*', 'authenticationx.login', false],
  ['authentication.*', 'session.authentication.login', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.xyz.c', true],
  ['a.*.c', 'a.c', false],
  ['a.*.c', 'a.b.b.c', false],
  ['a.*.c', 'a.b.c.d', false],
  ['a.*.c', 'a.b.d', false],
  ['*.login', 'authentication.login', true],
  ['*.login', 'login', false],
  ['*.login', 'authentication.login.success', false],
  ['*.*', 'a', false],
  ['*.*', 'a.b', true],
  ['*.*', 'a.b.c', true],
  ['a.*.c.*', 'a.b.c.d.e', true],
  ['a.*.c.*', 'a.b.c', false]
]

t.test('matching table', async (t) => {
  for (const [pattern, type, expected] of cases) {
    const trie = new PatternTrie<string>()
    trie.add(pattern, 'v')
    t.same(matches(trie, type), expected ? ['v'] : [], `${pattern} ${expected ? 'matches' : 'does not match'} ${type}`)
  }
})

/** The grammar restated as a regular expression, to check the trie against on every pair. */
function reference (pattern: string, type: string): boolean {
  const segments = pattern.split('.')
  const source = segments.map((s, i) => s !== '*' ? s : i === segments.length - 1 ? '[^.]+(?:\\.[^.]+)*' : '[^.]+').join('\\.')
  return new RegExp(`^${source}$`).test(type)
}

t.test('one trie holding every pattern visits exactly the matching ones, each once', async (t) => {
  for (const [pattern, type, expected] of cases) t.equal(reference(pattern, type), expected, `reference agrees: ${pattern} / ${type}`)
  const patterns = [...new Set(cases.map(([p]) => p))]
  const trie = new PatternTrie<string>()
  for (const p of patterns) trie.add(p, p)
  for (const type of new Set(cases.map(([, ty]) => ty))) {
    t.same(matches(trie, type), patterns.filter((p) => reference(p, type)).sort(), type)
  }
})

t.test('deduplication is not the trie\'s job: one value under two matching patterns is visited twice', async (t) => {
  const trie = new PatternTrie<string>()
  trie.add('a.*', 'conn')
  trie.add('a.b', 'conn')
  trie.add('*', 'conn')
  t.same(matches(trie, 'a.b'), ['conn', 'conn', 'conn'])
  t.equal(trie.size, 3)
})

t.test('size counts distinct patterns, not values', async (t) => {
  const trie = new PatternTrie<string>()
  trie.add('a.b', 'x')
  trie.add('a.b', 'y')
  trie.add('a.b', 'x')
  t.equal(trie.size, 1)
  t.same(matches(trie, 'a.b'), ['x', 'y'])
})

t.test('removal prunes, and re-adding works', async (t) => {
  const trie = new PatternTrie<string>()
  const patterns = ['a.b.c', 'a.*', 'a.*.c', '*', 'a.b']
  for (const p of patterns) trie.add(p, 'v')
  t.equal(trie.size, patterns.length)
  for (const p of patterns) trie.remove(p, 'v')
  t.equal(trie.size, 0)
  t.same(matches(trie, 'a.b.c'), [])
  t.same((trie as unknown as { root: { children?: Map<string, unknown> } }).root.children?.size ?? 0, 0, 'no branch left')

  trie.add('a.*', 'w')
  t.equal(trie.size, 1)
  t.same(matches(trie, 'a.b.c'), ['w'])
})

t.test('removing one value keeps the others under the same pattern', async (t) => {
  const trie = new PatternTrie<string>()
  trie.add('a.*', 'x')
  trie.add('a.*', 'y')
  trie.remove('a.*', 'x')
  t.equal(trie.size, 1)
  t.same(matches(trie, 'a.b'), ['y'])
})

t.test('removing a deep pattern keeps a shorter one on its path', async (t) => {
  const trie = new PatternTrie<string>()
  trie.add('a.b', 'x')
  trie.add('a.b.c.d', 'x')
  trie.remove('a.b.c.d', 'x')
  t.same(matches(trie, 'a.b'), ['x'])
  t.same(matches(trie, 'a.b.c.d'), [])
  t.equal(trie.size, 1)
})

t.test('removing an absent pattern or value is a no-op', async (t) => {
  const trie = new PatternTrie<string>()
  trie.add('a.b', 'x')
  trie.remove('a.c', 'x')
  trie.remove('a.b', 'y')
  trie.remove('a.*', 'x')
  trie.remove('a.b.c', 'x')
  trie.remove('*', 'x')
  t.equal(trie.size, 1)
  t.same(matches(trie, 'a.b'), ['x'])
  trie.remove('a.b', 'x')
  trie.remove('a.b', 'x')
  t.equal(trie.size, 0, 'a second removal does not go below zero')
})
