import t from 'tap'
import { FrameQueue } from '../../src/frame-queue.js'

/** A promise the test settles by hand. */
function deferred () {
  let settle = { resolve: (): void => {}, reject: (_err: Error): void => {} }
  const promise = new Promise<void>((resolve, reject) => { settle = { resolve, reject } })
  return { promise, ...settle }
}

t.test('synchronous handlers run at once, in order', async (t) => {
  const ran: number[] = []
  const queue = new FrameQueue(() => {}, undefined)
  queue.run(() => { ran.push(1) })
  queue.run(() => { ran.push(2) })
  t.same(ran, [1, 2], 'before run() returned')
})

t.test('handlers behind a pending one wait for it, then run in order', async (t) => {
  const ran: string[] = []
  const queue = new FrameQueue(() => {}, undefined)
  const slow = deferred()
  queue.run(async () => { await slow.promise; ran.push('slow') })
  queue.run(() => { ran.push('sync') })
  const last = deferred()
  queue.run(() => { ran.push('last'); last.resolve() })
  t.same(ran, [], 'nothing overtakes the pending handler')
  slow.resolve()
  await last.promise
  t.same(ran, ['slow', 'sync', 'last'])
  // setImmediate runs after every pending promise callback: the queue has drained by then.
  await new Promise((resolve) => setImmediate(resolve))
  queue.run(() => { ran.push('after') })
  t.same(ran.at(-1), 'after', 'once drained, synchronous handlers run at once again')
})

t.test('a failing handler is reported and does not stop the queue', async (t) => {
  const errors: unknown[] = []
  const queue = new FrameQueue((err) => errors.push(err), undefined)
  const boom = new Error('boom')
  queue.run(async () => { throw boom })
  const next = deferred()
  queue.run(() => next.resolve())
  await next.promise
  t.same(errors, [boom])
})
