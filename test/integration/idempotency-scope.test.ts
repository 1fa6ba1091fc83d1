import t, { type Test } from 'tap'
import { RedisServer } from '../../harness/redis.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { idempotencyScope } from '../../src/publisher.js'
import { connectAs, type TestClient } from '../helpers/client.js'
import { type Gateway, post, startGateway } from '../helpers/gateway.js'

/**
 * Two publishers whose ids and keys join into the same text once `:` separates them: each
 * pair must publish its own event under its own id.
 */
const CROSSED = [
  { publisher: 'billing', header: '2024:request:k1', event: '2024:event:k1' },
  { publisher: 'billing:request:2024', header: 'k1', event: 'k1' },
  { publisher: 'billing:event:2024', header: 'k1', event: 'k1' }
] as const

async function publish (gw: Gateway, publisher: string, body: unknown, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await post(`${gw.url}/events`, body, serviceToken(publisher), headers)
  if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body.ids as string[]
}

/** The `n` of every event alice receives up to the marker published after them. */
async function receivedUntilMarker (gw: Gateway, alice: TestClient): Promise<unknown[]> {
  await publish(gw, 'marker', { type: 'scope.marker', userId: 'alice' })
  const seen: unknown[] = []
  for (;;) {
    const [event] = await alice.events(1)
    if (event?.type === 'scope.marker') return seen
    seen.push(event?.data.n)
  }
}

async function crossedKeysStaySeparate (t: Test, env: Record<string, string>): Promise<void> {
  const gw = await startGateway(t, env)
  const alice = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('alice'))
  await alice.subscribe('scope.*')

  const byHeader = []
  for (const [n, { publisher, header }] of CROSSED.entries()) {
    byHeader.push(...await publish(gw, publisher, { type: 'scope.request', userId: 'alice', data: { n } }, { 'idempotency-key': header }))
  }
  t.equal(new Set(byHeader).size, CROSSED.length, `Idempotency-Key: ${byHeader.join(' ')} are different ids`)
  t.same(await receivedUntilMarker(gw, alice), [0, 1, 2], 'each publisher\'s event is delivered')

  const byEvent = []
  for (const [n, { publisher, event }] of CROSSED.entries()) {
    byEvent.push(...await publish(gw, publisher, { type: 'scope.event', userId: 'alice', idempotencyKey: event, data: { n } }))
  }
  t.equal(new Set(byEvent).size, CROSSED.length, `idempotencyKey: ${byEvent.join(' ')} are different ids`)
  t.same(await receivedUntilMarker(gw, alice), [0, 1, 2], 'each publisher\'s event is delivered')

  const retried = await publish(gw, 'billing', { type: 'scope.request', userId: 'alice', data: { n: 0 } }, { 'idempotency-key': '2024:request:k1' })
  t.same(retried, byHeader.slice(0, 1), 'a publisher\'s own retry still gets its first id')
  t.same(await receivedUntilMarker(gw, alice), [], 'and publishes nothing again')
}

t.test('memory: publishers whose id and key join alike publish separate events', async (t) => {
  await crossedKeysStaySeparate(t, {})
})

t.test('Redis: publishers whose id and key join alike publish separate events', async (t) => {
  const redis = await RedisServer.start(t)
  await crossedKeysStaySeparate(t, { REDIS_URL: redis.url })
})

t.test('the scope of a key is one per publisher, kind and key, whatever they hold', async (t) => {
  const scopes = [
    ...CROSSED.flatMap(({ publisher, header, event }) => [idempotencyScope(publisher, 'request', header), idempotencyScope(publisher, 'event', event)]),
    idempotencyScope('a"b', 'request', 'c'),
    idempotencyScope('a', 'request', '"b":request:c'),
    idempotencyScope('\ud800', 'request', 'k'),
    idempotencyScope('\ufffd', 'request', 'k')
  ]
  t.equal(new Set(scopes).size, scopes.length, 'no two alike')
  t.equal(new Set(scopes.map((s) => Buffer.from(s).toString('hex'))).size, scopes.length, 'nor once written as UTF-8')
})
