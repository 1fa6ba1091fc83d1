import { EventEmitter } from 'node:events'
import t from 'tap'
import type { WebSocket } from 'ws'
import { MemoryBus } from '../../src/bus/memory.js'
import { Hub } from '../../src/hub.js'
import type { Identity } from '../../src/identity.js'
import type { Log } from '../../src/logging.js'
import { ReplayGate } from '../../src/replay-gate.js'
import type { RevokedReason } from '../../src/revocations.js'
import { SecurityReporter } from '../../src/security.js'
import { openSocketSession, type SocketSessionContext } from '../../src/socket-session.js'
import { embeddedRooms } from '../helpers/rooms.js'

const log: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => log }

/** The events and calls of a `ws` socket that openSocketSession uses; nothing crosses a network. */
class FakeSocket extends EventEmitter {
  readyState = 1
  readonly sent: string[] = []
  readonly closed: Array<[number, string]> = []
  send (data: string | Buffer): void { this.sent.push(data.toString()) }
  close (code: number, reason: string): void { this.closed.push([code, reason]) }
  terminate (): void {}
  ping (): void {}
}

function context (revoked: (identity: Identity) => RevokedReason | undefined): SocketSessionContext {
  const bus = new MemoryBus({ maxEvents: 100, maxAgeMs: 3_600_000 })
  t.teardown(async () => { await bus.close() })
  const hub = new Hub()
  return {
    hub,
    ...embeddedRooms(hub, bus),
    history: bus.history,
    maxReplay: 100,
    maxReplayBytes: 1024 * 1024,
    maxDataBytes: 32 * 1024,
    replays: new ReplayGate({ perInstance: 8, perUser: 2 }),
    reads: bus,
    serverId: 'test',
    heartbeatIntervalMs: 30_000,
    maxSubscriptions: 100,
    maxPatternLength: 128,
    messageLimits: { burst: 100, perSecond: 20, abuseLimit: 50 },
    security: new SecurityReporter(bus, log, 'test', 20),
    tokens: { verify: async () => 'token_invalid', revoked, failed: async () => false, expiryWarningMs: 60_000 }
  }
}

const alice: Identity = { userId: 'alice', sessionId: 's1', roles: [], permissions: [], tokenId: undefined, expiresAt: undefined, rooms: new Map(), groups: [] }

t.test('an upgrade a just-applied revocation covers is closed 4001 session_revoked before it joins the hub', async (t) => {
  const ctx = context((identity) => identity.sessionId === 's1' ? 'session_revoked' : undefined)
  const socket = new FakeSocket()
  t.equal(openSocketSession(ctx, socket as unknown as WebSocket, 'c1', alice, 'events', log), undefined)
  t.same(socket.closed, [[4001, 'session_revoked']])
  t.same(socket.sent, [], 'no connected frame')
  t.equal(ctx.hub.size, 0)

  const other = new FakeSocket()
  t.ok(openSocketSession(ctx, other as unknown as WebSocket, 'c2', { ...alice, sessionId: 's2' }, 'events', log) !== undefined, 'another session opens')
  t.match(JSON.parse(other.sent[0] ?? '{}'), { type: 'connected', payload: { connectionId: 'c2', userId: 'alice' } })
  t.equal(ctx.hub.size, 1)
  other.emit('close', 1000)
  t.equal(ctx.hub.size, 0, 'and leaves the hub on close')
})

t.test('an upgrade whose token a just-applied revocation covers is closed 4001 token_revoked', async (t) => {
  const ctx = context((identity) => identity.tokenId === 'j1' ? 'token_revoked' : undefined)
  const socket = new FakeSocket()
  t.equal(openSocketSession(ctx, socket as unknown as WebSocket, 'c1', { ...alice, tokenId: 'j1' }, 'events', log), undefined)
  t.same(socket.closed, [[4001, 'token_revoked']])
  t.equal(ctx.hub.size, 0)
})
