import { readdirSync } from 'node:fs'
import { build } from 'esbuild'
import t from 'tap'
import { backoffDelay } from '../src/client/backoff.js'
import { closePolicy } from '../src/client/close-policy.js'
import { endpointOf } from '../src/client/endpoint.js'
import { Subscriptions } from '../src/client/subscriptions.js'
import type { GatewayEvent } from '../src/client/types.js'
import { earliestRefresh, refreshDue, tokenExpiresAt } from '../src/client/token.js'
import { Watchdog } from '../src/client/watchdog.js'
import { until } from '../harness/ports.js'
import { token } from '../harness/tokens.js'
import { within } from './helpers/within.js'

t.test('backoff: full jitter below an exponential ceiling, capped', async (t) => {
  const options = { baseMs: 100, capMs: 1000 }
  t.equal(backoffDelay(0, options, () => 0), 0, 'the low end of the range is 0')
  t.equal(backoffDelay(0, options, () => 0.999), 99, 'attempt 0: below base')
  t.equal(backoffDelay(1, options, () => 0.5), 100, 'attempt 1: half of 2·base')
  t.equal(backoffDelay(3, options, () => 0.999), 799)
  t.equal(backoffDelay(4, options, () => 0.999), 999, 'the ceiling stops at the cap')
  t.equal(backoffDelay(5000, options, () => 0.5), 500, 'no overflow after many attempts')
  const spread = new Set(Array.from({ length: 200 }, () => backoffDelay(6, options)))
  t.ok([...spread].every((d) => d >= 0 && d < 1000), 'every delay within [0, cap)')
  t.ok(spread.size > 50, `delays spread over the range (${spread.size} distinct of 200)`)
})

t.test('close policy follows the close table of docs/client.md', async (t) => {
  const table: Array<[number, string, boolean]> = [
    [4001, 'at-once', true], [4003, 'never', true], [4008, 'backoff', false], [4009, 'backoff', true],
    [1013, 'backoff', false], [1008, 'backoff', true], [1001, 'at-once', false], [1012, 'at-once', false],
    [1009, 'never', true], [1007, 'never', true], [1006, 'backoff', false]
  ]
  for (const [code, retry, report] of table) t.same(closePolicy(code), { retry, report }, String(code))
  t.same(closePolicy(1000), { retry: 'backoff', report: false }, 'a code the table does not name backs off')
  t.same(closePolicy(4999), { retry: 'backoff', report: false })
})

t.test('token: exp read without verifying, browser-safe', async (t) => {
  const exp = Math.floor(Date.now() / 1000) + 120
  t.equal(tokenExpiresAt(token({ sub: 'ünïcødé-user', exp })), exp * 1000, 'a base64url payload with UTF-8 claims')
  t.equal(tokenExpiresAt(token({ sub: 'alice', exp: undefined })), undefined, 'no exp')
  for (const bad of ['', 'abc', 'a.!!!.c', 'a.e30.c', `a.${btoa('{"exp":"soon"}')}.c`]) {
    t.equal(tokenExpiresAt(bad), undefined, `unreadable: ${JSON.stringify(bad)}`)
  }
})

t.test('token: refresh schedule', async (t) => {
  t.equal(refreshDue(200_000, 0), 170_000, 'a long token: 30 s before exp')
  t.equal(refreshDue(4000, 0), 3000, 'a short token: a quarter of its life before exp')
  t.equal(earliestRefresh(4000, 0), 2000, 'a warning brings the refresh forward, not before halfway')
})

/** Whether an event of `type` reaches a handler on `pattern`. */
function routed (pattern: string, type: string): boolean {
  const subscriptions = new Subscriptions()
  let reached = false
  subscriptions.add(pattern, () => { reached = true })
  subscriptions.dispatch({ id: '1-0', type, timestamp: new Date(0).toISOString(), data: {} }, (err) => { throw err })
  return reached
}

t.test('patterns route events to handlers as the gateway matches them', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['authentication.*', 'authentication.logout', true],
    ['authentication.*', 'authentication.login.success', true],
    ['authentication.*', 'authentication', false],
    ['*.login.success', 'authentication.login.success', true],
    ['*.login.success', 'authentication.login.failed', false],
    ['security.*.blocked', 'security.ip.blocked', true],
    ['security.*.blocked', 'security.ip.v6.blocked', false],
    ['session.created', 'session.created', true],
    ['session.created', 'session.created.web', false],
    ['*', 'anything.at.all', true]
  ]
  for (const [pattern, type, expected] of cases) t.equal(routed(pattern, type), expected, `${pattern} ~ ${type}`)
})

t.test('a handler on several matching patterns is called once per event; an unsubscribed pattern routes nothing', async (t) => {
  const subscriptions = new Subscriptions()
  let calls = 0
  const handler = (): void => { calls++ }
  subscriptions.add('a.*', handler)
  subscriptions.add('a.b', handler)
  subscriptions.add('*', handler)
  const event: GatewayEvent = { id: '1-0', type: 'a.b', timestamp: new Date(0).toISOString(), data: {} }
  subscriptions.dispatch(event, (err) => { throw err })
  t.equal(calls, 1, 'three matching patterns, one call')
  for (const pattern of ['a.*', 'a.b', '*']) subscriptions.remove(pattern)
  subscriptions.dispatch(event, (err) => { throw err })
  t.equal(calls, 1, 'no call once every pattern is gone')
})

t.test('endpoints: the stream and the ticket route under the base URL', async (t) => {
  t.same(endpointOf('https://events.example.com', 'events'), { socket: 'wss://events.example.com/ws/events', ticket: 'https://events.example.com/ws/ticket' })
  t.same(endpointOf('ws://127.0.0.1:3000/', 'admin'), { socket: 'ws://127.0.0.1:3000/ws/admin', ticket: 'http://127.0.0.1:3000/ws/ticket' })
  t.same(endpointOf('https://example.com/gateway/', 'events'), { socket: 'wss://example.com/gateway/ws/events', ticket: 'https://example.com/gateway/ws/ticket' }, 'a path is a prefix')
  t.throws(() => endpointOf('wss://example.com/ws/events', 'events'), /base URL/, 'a stream URL is refused with a hint')
  t.throws(() => endpointOf('ftp://example.com', 'events'), /http\(s\)/)
})

t.test('watchdog: probes after the interval, declares death after interval + grace', async (t) => {
  let probes = 0
  const started = Date.now()
  const dead = new Promise<number>((resolve) => {
    const watchdog = new Watchdog(60, 60, () => { probes++ }, () => { resolve(Date.now() - started) })
    t.teardown(() => { watchdog.stop() })
  })
  const elapsed = await within(dead, 2000, 'the watchdog to fire')
  t.equal(probes, 1, 'one probe before giving up')
  t.ok(elapsed >= 120, `not before interval + grace (${elapsed} ms)`)
})

t.test('watchdog: traffic keeps the connection alive', async (t) => {
  let deaths = 0
  let probes = 0
  const watchdog = new Watchdog(40, 40, () => { probes++ }, () => { deaths++ })
  t.teardown(() => { watchdog.stop() })
  const traffic = setInterval(() => { watchdog.seen() }, 10)
  t.teardown(() => { clearInterval(traffic) })
  const quietUntil = Date.now() + 300
  await until(() => Date.now() >= quietUntil, 2000, 'several intervals of traffic')
  t.equal(deaths, 0, 'never declared dead while frames arrive')
  t.equal(probes, 0, 'never probed either')
})

t.test('the client bundles for browsers with nothing from Node', async (t) => {
  const result = await build({
    entryPoints: [new URL('../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  const inputs = Object.keys(result.metafile.inputs)
  // The wire contract is the gateway's own, shared rather than restated.
  t.ok(inputs.every((input) => input.startsWith('src/client/') || input.startsWith('src/wire/')), `only src/client/ and src/wire/ are bundled: ${inputs.join(', ')}`)
  const code = result.outputFiles[0]?.text ?? ''
  t.notMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(|node:/, 'no Buffer, process, require or node: module')
  t.match(code, /export\{.*createClient/, 'createClient is exported')
})

t.test('every module of the wire contract bundles for browsers on its own, with nothing from outside src/wire/', async (t) => {
  const dir = new URL('../src/wire/', import.meta.url)
  const modules = readdirSync(dir).filter((name) => name.endsWith('.ts'))
  t.ok(modules.length >= 7, `the wire modules: ${modules.join(', ')}`)
  for (const name of modules) {
    const result = await build({
      entryPoints: [new URL(name, dir).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent'
    })
    const inputs = Object.keys(result.metafile.inputs)
    t.ok(inputs.every((input) => input.startsWith('src/wire/')), `${name} imports only src/wire/: ${inputs.join(', ')}`)
    t.notMatch(result.outputFiles[0]?.text ?? '', /\bBuffer\b|\bprocess\.|\brequire\(|node:/, `${name}: no Buffer, process, require or node: module`)
  }
})
