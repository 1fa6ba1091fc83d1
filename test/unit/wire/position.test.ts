import t from 'tap'
import { formatPosition, MAX_POSITION_ENTRIES, parsePosition } from '../../../src/wire/position.js'

t.test('a position is one id per partition, joined by commas', async (t) => {
  const position = parsePosition('p3:10-4,b:12-0')
  t.same(position && [...position], [['p3', 'p3:10-4'], ['b', 'b:12-0']])
  t.equal(formatPosition(position ?? new Map()), 'p3:10-4,b:12-0')
  t.same([...parsePosition('10-4') ?? []], [['p0', '10-4']], 'a lone id without a partition is p0\'s')
})

t.test('anything else is not a position', async (t) => {
  for (const token of ['', ',', '10-4,', 'p3:10-4,p3:11-0', '10-4,p0:11-0', 'x:1-1', 'p3:1-1;b:1-1', 'p1234:1-1', 5, null, ['1-1']]) {
    t.equal(parsePosition(token), undefined, JSON.stringify(token))
  }
  const many = Array.from({ length: MAX_POSITION_ENTRIES + 1 }, (_, i) => `p${i % 1000}:1-1`).join(',')
  t.equal(parsePosition(many), undefined, 'more partitions than a gateway runs')
})
