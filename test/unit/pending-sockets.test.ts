import { EventEmitter } from 'node:events'
import t from 'tap'
import { PendingSockets } from '../../src/pending-sockets.js'

t.test('places are capped per address and per instance, and freed when the socket closes', async (t) => {
  const pending = new PendingSockets({ perInstance: 3, perAddress: 2 })
  const [a1, a2, a3, b1, c1] = Array.from({ length: 5 }, () => new EventEmitter())
  t.ok(pending.reserve(a1 as EventEmitter, '10.0.0.1'))
  t.ok(pending.reserve(a2 as EventEmitter, '10.0.0.1'))
  t.notOk(pending.reserve(a3 as EventEmitter, '10.0.0.1'), 'a third from one address')
  t.ok(pending.reserve(b1 as EventEmitter, '10.0.0.2'))
  t.notOk(pending.reserve(c1 as EventEmitter, '10.0.0.3'), 'a fourth on the instance')
  a1?.emit('close')
  t.equal(pending.size, 2)
  t.ok(pending.reserve(a3 as EventEmitter, '10.0.0.1'), 'the closed one\'s place is free')
})

t.test('a released place is not released again when its socket closes later', async (t) => {
  const pending = new PendingSockets({ perInstance: 2, perAddress: 2 })
  const [a, b] = [new EventEmitter(), new EventEmitter()]
  pending.reserve(a, '10.0.0.1')
  pending.release(a)
  t.equal(a.listenerCount('close'), 0, 'its close listener is gone')
  pending.reserve(b, '10.0.0.1')
  a.emit('close')
  t.equal(pending.size, 1)
})
