import t from 'tap'
import { GroupCommit } from '../../../src/bus/group-commit.js'

/** A GroupCommit whose writes are recorded and answered by `answer`. */
function recorded (maxWeight: number, answer: (group: string, items: readonly string[]) => Promise<readonly string[]> = async (group, items) => items.map((item) => `${group}:${item}`), soloWeight = maxWeight) {
  const calls: Array<{ group: string, items: readonly string[] }> = []
  const commit = new GroupCommit<string, string>(async (group, items) => {
    calls.push({ group, items })
    return await answer(group, items)
  }, maxWeight, soloWeight)
  return { commit, calls }
}

t.test('items submitted in one turn go out in one call per group, in order, each answered with its own result', async (t) => {
  const { commit, calls } = recorded(100)
  const results = await Promise.all([commit.submit('a', 'x', 1), commit.submit('b', 'y', 1), commit.submit('a', 'z', 1)])
  t.same(results, ['a:x', 'b:y', 'a:z'])
  t.same(calls, [{ group: 'a', items: ['x', 'z'] }, { group: 'b', items: ['y'] }])
})

t.test('items of a later turn go in a call of their own', async (t) => {
  const { commit, calls } = recorded(100)
  await commit.submit('a', 'x', 1)
  await commit.submit('a', 'y', 1)
  t.same(calls.map((c) => c.items), [['x'], ['y']])
})

t.test('a group past its weight is sent at once and the next items start another call', async (t) => {
  const { commit, calls } = recorded(5)
  const results = await Promise.all([commit.submit('a', 'x', 3), commit.submit('a', 'y', 2), commit.submit('a', 'z', 1)])
  t.same(results, ['a:x', 'a:y', 'a:z'])
  t.same(calls.map((c) => c.items), [['x', 'y'], ['z']])
})

t.test('a heavy item goes at once in a call of its own, after what its group held before it', async (t) => {
  const { commit, calls } = recorded(100, undefined, 10)
  const results = await Promise.all([commit.submit('a', 'x', 1), commit.submit('a', 'big', 10), commit.submit('a', 'y', 1)])
  t.same(results, ['a:x', 'a:big', 'a:y'])
  t.same(calls.map((c) => c.items), [['x'], ['big'], ['y']])
})

t.test('a failed call rejects exactly the items it carried', async (t) => {
  const { commit } = recorded(100, async (group, items) => {
    if (group === 'bad') throw new Error('refused')
    return items
  })
  const outcomes = await Promise.allSettled([commit.submit('bad', 'x', 1), commit.submit('good', 'y', 1), commit.submit('bad', 'z', 1)])
  t.same(outcomes.map((o) => o.status), ['rejected', 'fulfilled', 'rejected'])
  t.equal((outcomes[0] as PromiseRejectedResult).reason.message, 'refused')
})

t.test('a call answering with the wrong number of results fails its items rather than misanswer them', async (t) => {
  const { commit } = recorded(100, async () => ['only one'])
  const outcomes = await Promise.allSettled([commit.submit('a', 'x', 1), commit.submit('a', 'y', 1)])
  t.same(outcomes.map((o) => o.status), ['rejected', 'rejected'])
})
