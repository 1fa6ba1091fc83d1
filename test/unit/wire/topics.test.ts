import t from 'tap'
import { patternError } from '../../../src/wire/topics.js'

t.test('patternError', async (t) => {
  for (const ok of ['*', 'a', 'authentication.*', 'a.*.c', 'user_1.login-ok', 'x'.repeat(128), 'a.b.c.d.e.f.g.h']) {
    t.equal(patternError(ok, 128), undefined, `${ok.slice(0, 20)} is valid`)
  }
  const bad: Array<[unknown, RegExp]> = [
    ['', /empty/],
    ['Authentication.*', /lower-case/],
    ['a b', /lower-case/],
    [' a', /lower-case/],
    ['**', /lower-case/],
    ['a.**', /lower-case/],
    ['a.*b', /lower-case/],
    ['a..b', /lower-case/],
    ['.a', /lower-case/],
    ['a.', /lower-case/],
    ['_a', /lower-case/],
    ['x'.repeat(129), /at most 128 characters/],
    ['a.b.c.d.e.f.g.h.i', /at most 8 segments/],
    [42, /must be a string/],
    [null, /must be a string/],
    [['a'], /must be a string/]
  ]
  for (const [pattern, message] of bad) {
    t.match(patternError(pattern, 128), message, `${JSON.stringify(pattern).slice(0, 20)} is refused`)
  }
  t.equal(patternError('a.'.repeat(4) + 'bc', 10), undefined, 'a pattern at the configured limit is valid')
  t.match(patternError('a.'.repeat(4) + 'bcd', 10), /at most 10 characters/, 'one character over the configured limit is refused')
})
