import { EventEmitter } from 'node:events'
import t from 'tap'
import { type ExitingProcess, gracefulExit } from '../../src/graceful-exit.js'
import { within } from '../helpers/within.js'

interface Line { level: 'error' | 'warn' | 'info', fields: Record<string, unknown>, msg: string }

/** A process that records its exits, a log that records its lines, and a close the test ends. */
function harness (timeoutMs = 10_000) {
  const emitter = new EventEmitter()
  const exits: number[] = []
  let exited = (_code: number): void => {}
  const firstExit = new Promise<number>((resolve) => { exited = resolve })
  const proc: ExitingProcess = Object.assign(emitter, {
    exit: (code: number) => {
      exits.push(code)
      exited(code)
    }
  })
  const lines: Line[] = []
  const record = (level: Line['level']) => (fields: Record<string, unknown>, msg: string): void => { lines.push({ level, fields, msg }) }
  const log = { error: record('error'), warn: record('warn'), info: record('info') } as unknown as Parameters<typeof gracefulExit>[1]['log']
  let closes = 0
  let finish = (): void => {}
  let fail = (_err: Error): void => {}
  const close = async (): Promise<void> => {
    closes++
    await new Promise<void>((resolve, reject) => {
      finish = resolve
      fail = reject
    })
  }
  const exit = gracefulExit(proc, { timeoutMs, log, close })
  return { emitter, exits, firstExit, lines, exit, closes: () => closes, finish: () => { finish() }, fail: (err: Error) => { fail(err) } }
}

t.test('a signal closes once, then exits 0', async (t) => {
  const h = harness()
  h.emitter.emit('SIGTERM', 'SIGTERM')
  t.equal(h.closes(), 1)
  t.same(h.exits, [], 'not before the close is done')
  h.finish()
  t.equal(await within(h.firstExit, 1000, 'the exit'), 0)
  t.match(h.lines, [{ level: 'info', fields: { signal: 'SIGTERM' }, msg: 'shutting down' }])
})

t.test('an uncaught exception takes the same close, is logged once, and exits 1', async (t) => {
  const h = harness()
  const boom = new Error('boom')
  h.emitter.emit('uncaughtException', boom)
  t.equal(h.closes(), 1, 'the same close as a signal')
  h.finish()
  t.equal(await within(h.firstExit, 1000, 'the exit'), 1, 'non-zero though the close went well')
  t.same(h.lines, [{ level: 'error', fields: { err: boom, origin: 'uncaughtException' }, msg: 'uncaughtException: shutting down' }])
})

t.test('an unhandled rejection, whatever its reason, exits 1 after the close', async (t) => {
  const h = harness()
  h.emitter.emit('unhandledRejection', 'not even an Error')
  h.finish()
  t.equal(await within(h.firstExit, 1000, 'the exit'), 1)
  t.match(h.lines, [{ level: 'error', fields: { err: 'not even an Error', origin: 'unhandledRejection' } }])
})

t.test('an error during the close is logged, starts no second close, and makes the exit 1', async (t) => {
  const h = harness()
  h.emitter.emit('SIGINT', 'SIGINT')
  const late = new Error('late')
  h.emitter.emit('uncaughtException', late)
  t.equal(h.closes(), 1)
  h.finish()
  t.equal(await within(h.firstExit, 1000, 'the exit'), 1)
  t.match(h.lines[1], { level: 'error', fields: { err: late }, msg: 'uncaughtException while shutting down' })
})

t.test('a second signal exits 1 at once, and only once', async (t) => {
  const h = harness()
  h.emitter.emit('SIGTERM', 'SIGTERM')
  h.emitter.emit('SIGINT', 'SIGINT')
  t.same(h.exits, [1], 'without waiting for the close')
  h.finish()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(h.exits, [1], 'the close ending later exits no second time')
  t.match(h.lines[1], { level: 'warn', fields: { signal: 'SIGINT' }, msg: 'second signal: exiting at once' })
})

t.test('a close that fails exits 1', async (t) => {
  const h = harness()
  h.emitter.emit('SIGTERM', 'SIGTERM')
  const failure = new Error('close failed')
  h.fail(failure)
  t.equal(await within(h.firstExit, 1000, 'the exit'), 1)
  t.match(h.lines[1], { level: 'error', fields: { err: failure }, msg: 'shutdown failed' })
})

t.test('a close that hangs exits 1 after the timeout', async (t) => {
  const h = harness(50)
  const startedAt = Date.now()
  h.emitter.emit('uncaughtException', new Error('boom'))
  t.equal(await within(h.firstExit, 1000, 'the exit'), 1)
  t.ok(Date.now() - startedAt >= 45, 'not before the timeout')
  t.match(h.lines[1], { level: 'error', fields: { timeoutMs: 50 }, msg: 'shutdown timed out' })
})

t.test('stop(code) closes as a signal does and exits with the code; the timer is cleared', async (t) => {
  const h = harness()
  const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
  const before = timers()
  h.exit.stop(1)
  t.equal(h.closes(), 1)
  h.finish()
  t.equal(await within(h.firstExit, 1000, 'the exit'), 1)
  t.equal(timers(), before, 'no timer left behind')
})
