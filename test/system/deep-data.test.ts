import t from 'tap'
import { startGatewayProcess } from '../../harness/process.js'
import { serviceToken, userToken } from '../../harness/tokens.js'
import { MAX_DATA_DEPTH, nestsDeeperThan } from '../../src/events.js'
import { connectAs } from '../helpers/client.js'
import { post } from '../helpers/gateway.js'

/** `{"a":{"a":…{"a":1}…}}`: `depth` objects, as text, since building it would recurse too. */
const nestedObjects = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
/** `{"a":[[…[]…]]}`: one object around `depth - 1` arrays. */
const nestedArrays = (depth: number): string => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`

t.test('nestsDeeperThan counts objects and arrays, data itself being level 1, without recursing', async (t) => {
  t.equal(nestsDeeperThan({}, 1), false)
  t.equal(nestsDeeperThan({ a: 1, b: 'x', c: null }, 1), false, 'values that are not objects add no level')
  t.equal(nestsDeeperThan({ a: {} }, 1), true)
  t.equal(nestsDeeperThan({ a: [1, [2]] }, 3), false)
  t.equal(nestsDeeperThan({ a: [1, [2]] }, 2), true)
  t.equal(nestsDeeperThan({ wide: Array.from({ length: 1000 }, () => ({ b: [] })) }, 4), false, 'width is not depth')
  for (const text of [nestedObjects(MAX_DATA_DEPTH), nestedArrays(MAX_DATA_DEPTH)]) {
    t.equal(nestsDeeperThan(JSON.parse(text), MAX_DATA_DEPTH), false, `${text.slice(0, 12)}…: ${MAX_DATA_DEPTH} levels are allowed`)
  }
  for (const text of [nestedObjects(MAX_DATA_DEPTH + 1), nestedArrays(MAX_DATA_DEPTH + 1), nestedArrays(500_000)]) {
    t.equal(nestsDeeperThan(JSON.parse(text), MAX_DATA_DEPTH), true, `${text.slice(0, 12)}…: more are not`)
  }
})

t.test('data nested 10,000 deep is 400 naming the rule, on every publishing route, and the process carries on', async (t) => {
  // Data as large as the body allows, so only the depth can refuse it.
  const gw = await startGatewayProcess(t, { EVENT_MAX_DATA_BYTES: String(1024 * 1024) })
  const jwt = serviceToken()
  const bob = await connectAs(t, `${gw.wsUrl}/ws/events`, userToken('bob'))
  await bob.subscribe('deep.*')
  const deep = nestedObjects(10_000)
  const wide = nestedArrays(400_000)
  const cases: Array<[string, string, string, string]> = [
    ['objects', '/events', `{"type":"deep.data","userId":"bob","data":${deep}}`, 'data'],
    ['arrays, 400,000 deep', '/events', `{"type":"deep.data","userId":"bob","data":${wide}}`, 'data'],
    ['the second event of a batch', '/events', `{"events":[{"type":"deep.data","userId":"bob"},{"type":"deep.data","userId":"bob","data":${deep}}]}`, 'events.1.data'],
    ['a notification', '/notifications', `{"userId":"bob","level":"info","title":"t","message":"m","data":${deep}}`, 'data']
  ]
  for (const [name, route, body, field] of cases) {
    t.ok(Buffer.byteLength(body) <= 1024 * 1024, `${name}: within the body limit`)
    const res = await post(`${gw.url}${route}`, body, jwt)
    t.equal(res.status, 400, name)
    t.match(res.body, { code: 'EVENTGATE_INVALID_BODY', field, message: `${field} must nest objects and arrays at most ${MAX_DATA_DEPTH} levels deep` }, name)
  }

  const health = await fetch(`${gw.url}/ws/health`)
  t.equal(health.status, 200, 'healthy')
  t.equal(gw.child.exitCode, null, 'still running')
  const atLimit = JSON.parse(nestedObjects(MAX_DATA_DEPTH)) as Record<string, unknown>
  t.equal((await post(`${gw.url}/events`, { type: 'deep.data', userId: 'bob', data: atLimit }, jwt)).status, 202, `${MAX_DATA_DEPTH} levels are published`)
  const [event] = await bob.events(1)
  t.same(event?.data, atLimit, 'and none of the refused events was')
  t.notMatch(gw.output(), /"level":50|Maximum call stack/, 'nothing was logged as a server fault')
})
