import pino from 'pino'
import t, { type Test } from 'tap'
import { TEST_SECRET } from '../../harness/tokens.js'
import { MemoryBus } from '../../src/bus/memory.js'
import { loadConfig } from '../../src/config.js'
import { Hub } from '../../src/hub.js'
import { SecurityReporter } from '../../src/security.js'
import { sessionContext, type SessionServices } from '../../src/session-context.js'
import { embeddedRooms } from '../helpers/rooms.js'
import { within } from '../helpers/within.js'

function services (t: Test, serverId: string): SessionServices {
  const bus = new MemoryBus({ maxEvents: 100, maxAgeMs: 60_000 })
  const security = new SecurityReporter(bus, pino({ level: 'silent' }), serverId, 10)
  t.teardown(async () => {
    security.close()
    await bus.close()
  })
  const hub = new Hub()
  return {
    hub,
    ...embeddedRooms(hub, bus),
    history: bus.history,
    reads: bus,
    security,
    tokens: { verify: async () => 'token_invalid', revoked: () => undefined, failed: async () => false }
  }
}

t.test('the configured limits reach the sessions under the names they read', async (t) => {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    SERVER_ID: 'eg-context',
    WEBSOCKET_HEARTBEAT_INTERVAL: '1111',
    WEBSOCKET_MAX_SUBSCRIPTIONS: '22',
    WEBSOCKET_MAX_PATTERN_LENGTH: '33',
    HISTORY_MAX_EVENTS: '4444',
    RESUME_MAX_BYTES: '55555',
    EVENT_MAX_DATA_BYTES: '6666',
    WEBSOCKET_MESSAGE_BURST: '7',
    WEBSOCKET_MESSAGE_RATE: '8',
    WEBSOCKET_MESSAGE_ABUSE_LIMIT: '9',
    TOKEN_EXPIRY_WARNING: '1234'
  })
  const given = services(t, config.serverId)
  const context = sessionContext(config, given)
  t.match(context, {
    serverId: 'eg-context',
    heartbeatIntervalMs: 1111,
    maxSubscriptions: 22,
    maxPatternLength: 33,
    maxReplay: 4444,
    maxReplayBytes: 55555,
    maxDataBytes: 6666,
    messageLimits: { burst: 7, perSecond: 8, abuseLimit: 9 },
    tokens: { expiryWarningMs: 1234 }
  })
  t.equal(context.hub, given.hub)
  t.equal(context.reads, given.reads)
  t.equal(context.history, given.history)
  t.equal(context.security, given.security)
  t.equal(context.tokens.verify, given.tokens.verify, 'tokens are verified as the upgrade\'s were')
})

t.test('its replay gate takes RESUME_CONCURRENCY_PER_USER resumes of one user at a time', async (t) => {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, RESUME_CONCURRENCY: '4', RESUME_CONCURRENCY_PER_USER: '1' })
  const { replays } = sessionContext(config, services(t, config.serverId))
  const leave = await within(replays.enter('alice', { open: true }), 1000, 'alice\'s first turn')
  let second = false
  const waiting = replays.enter('alice', { open: true }).then((leaveAgain) => {
    second = true
    return leaveAgain
  })
  await within(replays.enter('bob', { open: true }), 1000, 'another user\'s turn')
  t.notOk(second, 'alice\'s second resume waits while another user\'s runs')
  leave?.()
  t.ok(await within(waiting, 1000, 'alice\'s second turn'), 'and gets the turn her first gives back')
})
