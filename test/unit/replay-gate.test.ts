import t from 'tap'
import { type Leave, ReplayGate } from '../../src/replay-gate.js'

/** A connection as the gate sees it: open until the test closes it. */
class Socket {
  open = true
}

/** An `enter` whose outcome the test can read without awaiting it. */
class Entry {
  outcome: 'waiting' | 'granted' | 'refused' = 'waiting'
  leave: Leave = () => {}
  readonly who = new Socket()

  constructor (gate: ReplayGate, readonly user: string, readonly order?: string[], readonly name = user) {
    void gate.enter(user, this.who).then((leave) => {
      if (leave === undefined) {
        this.outcome = 'refused'
        return
      }
      this.outcome = 'granted'
      this.leave = leave
      order?.push(name)
    })
  }
}

/** setImmediate runs after every pending promise callback: each grant has settled by then. */
const settled = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

t.test('at most perInstance run at once; the others get their turn in arrival order', async (t) => {
  const gate = new ReplayGate({ perInstance: 2, perUser: 10 })
  const order: string[] = []
  const entries = ['a', 'b', 'c', 'd', 'e'].map((user) => new Entry(gate, user, order))
  await settled()
  t.same(order, ['a', 'b'], 'two run')
  entries[1]?.leave()
  await settled()
  t.same(order, ['a', 'b', 'c'], 'one leaves, the first waiting runs')
  entries[0]?.leave()
  entries[2]?.leave()
  await settled()
  t.same(order, ['a', 'b', 'c', 'd', 'e'])
  entries[3]?.leave()
  entries[4]?.leave()
  t.equal(gate.activeUsers, 0, 'nothing kept once every resume left')
})

t.test('a user runs at most perUser at once; other users are not held behind them', async (t) => {
  const gate = new ReplayGate({ perInstance: 8, perUser: 2 })
  const order: string[] = []
  const mine = [1, 2, 3, 4].map((n) => new Entry(gate, 'mallory', order, `mallory-${n}`))
  const theirs = new Entry(gate, 'alice', order)
  await settled()
  t.same(order, ['mallory-1', 'mallory-2', 'alice'], 'alice runs while mallory\'s third waits')
  mine[0]?.leave()
  await settled()
  t.same(order.at(-1), 'mallory-3')
  t.equal(mine[3]?.outcome, 'waiting')
  for (const entry of [...mine, theirs]) entry.leave()
  await settled()
  t.same(order.at(-1), 'mallory-4')
  mine[3]?.leave()
  t.equal(gate.activeUsers, 0)
})

t.test('a waiting resume whose socket closed does not run and frees its place at once', async (t) => {
  const gate = new ReplayGate({ perInstance: 1, perUser: 1 })
  const order: string[] = []
  const running = new Entry(gate, 'a', order)
  const gone = new Entry(gate, 'b', order)
  const next = new Entry(gate, 'c', order)
  // Waits for its user's turn, behind b's own running one... after b closed.
  const behindGone = new Entry(gate, 'b', order, 'b-2')
  await settled()
  gone.who.open = false
  gate.abandon(gone.who)
  await settled()
  t.equal(gone.outcome, 'refused', 'told at once, not when its turn would come')
  running.leave()
  await settled()
  t.same(order, ['a', 'c'], 'the turn passed it by')
  next.leave()
  await settled()
  t.same(order, ['a', 'c', 'b-2'], 'its user\'s next resume was not held by it')
  behindGone.leave()
  t.equal(gate.activeUsers, 0)
})

t.test('a socket closing but not yet closed when its turn comes is passed by too', async (t) => {
  const gate = new ReplayGate({ perInstance: 1, perUser: 1 })
  const order: string[] = []
  const running = new Entry(gate, 'a', order)
  const closing = new Entry(gate, 'b', order)
  const next = new Entry(gate, 'c', order)
  await settled()
  closing.who.open = false
  running.leave()
  await settled()
  t.same(order, ['a', 'c'])
  t.equal(closing.outcome, 'refused')
  next.leave()
  t.equal(gate.activeUsers, 0)
})

t.test('a closed socket gets no turn; leaving twice gives one turn back', async (t) => {
  const gate = new ReplayGate({ perInstance: 1, perUser: 1 })
  const closed = new Socket()
  closed.open = false
  t.equal(await gate.enter('a', closed), undefined)
  const first = new Entry(gate, 'a')
  await settled()
  first.leave()
  first.leave()
  const order: string[] = []
  const entries = [new Entry(gate, 'b', order), new Entry(gate, 'c', order)]
  await settled()
  t.same(order, ['b'], 'still one at a time')
  for (const entry of entries) entry.leave()
  await settled()
  t.same(order, ['b', 'c'])
  entries[1]?.leave()
  t.equal(gate.activeUsers, 0)
})
