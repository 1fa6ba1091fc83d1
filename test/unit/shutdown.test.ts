import { performance } from 'node:perf_hooks'
import t from 'tap'
import { until } from '../../harness/ports.js'
import { shutDown, type ShutdownSteps } from '../../src/shutdown.js'
import { within } from '../helpers/within.js'

/** Steps that record when each runs; the sockets close when `answer()` is called, or on terminate. */
function recorded () {
  const calls: Array<{ step: string, at: number }> = []
  const record = (step: string): void => { calls.push({ step, at: performance.now() }) }
  let answer = (): void => {}
  const sockets = new Promise<void>((resolve) => { answer = resolve })
  let deregistered = (): void => {}
  const deregistering = new Promise<void>((resolve) => { deregistered = resolve })
  const steps: ShutdownSteps = {
    drain: () => { record('drain') },
    closeSockets: async () => {
      record('closeSockets')
      await sockets
    },
    terminate: () => {
      record('terminate')
      answer()
    },
    deregister: async () => {
      record('deregister')
      await deregistering
    }
  }
  return { steps, calls, answer: () => { answer() }, deregistered: () => { deregistered() } }
}

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

t.test('sockets that answer: drain, close, deregister once they have closed; no terminate, no timer left', async (t) => {
  const { steps, calls, answer, deregistered } = recorded()
  const before = timers()
  const startedAt = performance.now()
  let done = false
  const shutdown = shutDown(steps, 10_000).then(() => { done = true })
  t.same(calls.map((c) => c.step), ['drain', 'closeSockets'], 'the drain before the first close, both at once')
  answer()
  await until(() => calls.length === 3, 1000, 'the next step')
  t.same(calls.map((c) => c.step), ['drain', 'closeSockets', 'deregister'], 'deregistered after the sockets closed')
  t.notOk(done, 'not done before the entry is gone')
  deregistered()
  await within(shutdown, 1000, 'the shutdown')
  t.ok(performance.now() - startedAt < 1000, 'without waiting out the grace')
  t.equal(timers(), before, 'the grace timer is cleared')
})

t.test('sockets that never answer are terminated after half the shutdown timeout, then the entry goes', async (t) => {
  const { steps, calls, deregistered } = recorded()
  deregistered()
  await within(shutDown(steps, 100), 1000, 'the shutdown')
  t.same(calls.map((c) => c.step), ['drain', 'closeSockets', 'terminate', 'deregister'])
  const [, closing, terminated] = calls
  const grace = (terminated?.at ?? 0) - (closing?.at ?? 0)
  t.ok(grace >= 49 && grace < 500, `terminated after the 50 ms grace (${grace.toFixed(1)} ms)`)
})
