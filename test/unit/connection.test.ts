import t from 'tap'
import { Connection, type Socket } from '../../src/connection.js'
import type { Log } from '../../src/logging.js'

const log: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => log }

function recorder () {
  const calls: unknown[][] = []
  const socket: Socket & { readyState: number } = {
    readyState: 1,
    bufferedAmount: 0,
    send (data, options) { calls.push(['send', data, options]) },
    close (code, reason) { calls.push(['close', code, reason]) },
    terminate () { calls.push(['terminate']) },
    ping () { calls.push(['ping']) }
  }
  const identity = { userId: 'alice', sessionId: 's1', roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }
  return { socket, calls, connection: new Connection('c1', socket, identity, 'events', log) }
}

t.test('a new connection is alive, has no patterns and has received nothing', async (t) => {
  const { connection } = recorder()
  t.equal(connection.alive, true)
  t.equal(connection.lastDelivery, 0)
  t.equal(connection.patterns.size, 0)
  t.equal(connection.open, true)
})

t.test('send writes text frames only while the socket is open', async (t) => {
  const { socket, calls, connection } = recorder()
  const frame = Buffer.from('{"type":"event"}')
  connection.send(frame)
  connection.send('text')
  for (const state of [0, 2, 3]) {
    socket.readyState = state
    t.equal(connection.open, false, `readyState ${state} is not open`)
    connection.send('dropped')
  }
  t.same(calls, [['send', frame, { binary: false }], ['send', 'text', { binary: false }]])
})

t.test('close passes the code and reason through', async (t) => {
  const { calls, connection } = recorder()
  connection.close(4001, 'token_expired')
  t.same(calls, [['close', 4001, 'token_expired']])
})
