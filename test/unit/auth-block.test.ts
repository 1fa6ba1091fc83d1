import t from 'tap'
import { blockedMessage, countsTowardBlock, isLoopback } from '../../src/auth-block.js'

t.test('loopback is 127.0.0.0/8, ::1 and 127.x mapped into IPv6, nothing else', async (t) => {
  for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(ip), ip)
  for (const ip of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', '127.example.com', '']) t.notOk(isLoopback(ip), ip)
})

t.test('only development spares loopback', async (t) => {
  t.notOk(countsTowardBlock('127.0.0.1', 'development'))
  t.ok(countsTowardBlock('203.0.113.7', 'development'))
  t.ok(countsTowardBlock('127.0.0.1', 'production'))
  t.ok(countsTowardBlock('127.0.0.1', 'test'))
})

t.test('the block says until when and which settings govern it', async (t) => {
  const message = blockedMessage(30_000, { limit: 20, windowMs: 60_000, cooldownMs: 300_000 }, Date.parse('2026-01-01T00:00:00.000Z'))
  t.match(message, 'blocked until 2026-01-01T00:00:30.000Z')
  t.match(message, 'AUTH_FAILURE_LIMIT=20 failures within AUTH_FAILURE_WINDOW=60000 ms')
  t.match(message, 'AUTH_FAILURE_COOLDOWN=300000 ms')
})
