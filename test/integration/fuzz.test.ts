import { randomInt } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import WebSocket from 'ws'
import { until } from '../../harness/ports.js'
import { adminToken, serviceToken, userToken } from '../../harness/tokens.js'
import { isAdminOnly } from '../../src/events.js'
import type { Stream } from '../../src/wire/streams.js'
import { get, post, startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

/** What the gateway publishes itself (src/security.ts): to admins alone, and about a user to that user too. */
const GATEWAY_ADMIN_PREFIXES = ['security.', 'system.']
const GATEWAY_USER_EVENTS: ReadonlySet<string> = new Set(['session.created', 'session.expired', 'session.concurrent_limit', 'authentication.token.refresh'])

/**
 * Random and mutated frames against one live gateway, from a seeded PRNG: a failure names its
 * seed, and `FUZZ_SEED=<seed> npx tap test/integration/fuzz.test.ts` replays the same frames per connection
 * (the interleaving between connections may differ; each socket's own sequence does not).
 */
const SEED = process.env.FUZZ_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.FUZZ_SEED)
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 24_000)
const MAX_PAYLOAD = 16 * 1024
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4']
const USER_SOCKETS_PER_USER = 4
const ADMIN_SOCKETS = 2
const FRAMES_PER_ROUND = 30
/** Replies a well-formed gateway may send for a frame; anything else (INTERNAL_ERROR, RATE_LIMITED) is a finding. */
const ERROR_CODES = new Set(['INVALID_MESSAGE', 'UNKNOWN_TYPE', 'INVALID_PATTERN', 'FORBIDDEN', 'TOO_MANY_SUBSCRIPTIONS'])
const REPLY_TYPES = new Set(['pong', 'subscribed', 'unsubscribed', 'subscriptions'])
const WAIT_MS = 10_000

// ---------------------------------------------------------------- PRNG and frame generators

class Random {
  private state: number
  constructor (seed: number) { this.state = seed >>> 0 }
  /** mulberry32: small, fast and good enough to pick frames. */
  next (): number {
    this.state = (this.state + 0x6D2B79F5) >>> 0
    let x = this.state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }

  int (below: number): number { return Math.floor(this.next() * below) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (items: readonly T[]): T { return items[this.int(items.length)] as T }
  bytes (length: number): Buffer {
    const out = Buffer.allocUnsafe(length)
    for (let i = 0; i < length; i++) out[i] = this.int(256)
    return out
  }
}

interface Frame { data: string | Buffer, binary: boolean, kind: string }

const REQUEST_TYPES = ['subscribe', 'unsubscribe', 'get_subscriptions', 'ping']
const SEGMENTS = ['authentication', 'security', 'session', 'admin', 'notification', 'login', 'success', 'ip', 'blocked', 'created', '*', 'x', '0', 'a-b', 'c_d', 'constructor', 'prototype']
const KEYS = ['type', 'id', 'payload', 'eventTypes', '__proto__', 'constructor', 'prototype', 'toString', 'length', '']
const CHARS = ['{', '}', '[', ']', '"', ':', ',', '\\', '.', '*', ' ', '0', '9', '-', 'e', 'a', 'z', 'A', '\u0000', '\n', '\u00e9', '\u202e', '\u200b', '\ufeff', '\ud83d\ude00', '\ud800', '\udfff', '\u4e2d']
const HUGE_NUMBERS = ['1e308', '1e309', '-1e309', '1e-400', '123456789012345678901234567890', '-0', '9007199254740993', '0.0000000000000000000001', '1E+999999']

function pattern (r: Random): string {
  return Array.from({ length: 1 + r.int(4) }, () => r.pick(SEGMENTS)).join('.')
}

function validRequest (r: Random): Record<string, unknown> {
  const type = r.pick(REQUEST_TYPES)
  const request: Record<string, unknown> = { type }
  if (r.chance(0.7)) request.id = r.chance(0.5) ? `f${r.int(1e6)}` : r.int(1e9)
  if (type === 'subscribe' || type === 'unsubscribe') request.payload = { eventTypes: Array.from({ length: 1 + r.int(4) }, () => pattern(r)) }
  return request
}

function randomString (r: Random, length: number): string {
  let s = ''
  while (s.length < length) s += r.chance(0.6) ? String.fromCharCode(32 + r.int(95)) : r.pick(CHARS)
  return s
}

/** Sets `key` as an own, enumerable property, so `__proto__` is written as a key rather than changing the prototype. */
function own (target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function randomValue (r: Random, depth: number): unknown {
  switch (r.int(depth > 0 ? 8 : 5)) {
    case 0: return null
    case 1: return r.chance(0.5)
    case 2: return r.pick([0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_VALUE, 1e308, 2 ** 53 + 1])
    case 3: return randomString(r, r.int(40))
    case 4: return r.pick(['', 'ping', 'subscribe', '*', 'admin.*', '__proto__'])
    case 5: return Array.from({ length: r.int(5) }, () => randomValue(r, depth - 1))
    default: {
      const object: Record<string, unknown> = {}
      for (let i = r.int(5); i > 0; i--) own(object, r.pick(KEYS), randomValue(r, depth - 1))
      return object
    }
  }
}

function nested (r: Random): string {
  const depth = 1 + r.int(6000)
  return r.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

/** A request with one field (or the whole frame) of the wrong type, sometimes nested deep. */
function wrongTypes (r: Random): string {
  const request = validRequest(r)
  const field = r.pick(['type', 'id', 'payload', 'eventTypes', 'pattern', 'whole', 'nested'])
  if (field === 'whole') return JSON.stringify(randomValue(r, 4))
  if (field === 'nested') {
    const where = r.pick(['type', 'id', 'payload', 'eventTypes', 'pattern'])
    const text = nested(r)
    if (where === 'eventTypes') return `{"type":"subscribe","id":"n","payload":{"eventTypes":${text}}}`
    if (where === 'pattern') return `{"type":"${r.pick(['subscribe', 'unsubscribe'])}","payload":{"eventTypes":["a.*",${text}]}}`
    return `{"type":"ping","${where}":${text}}`
  }
  if (field === 'eventTypes') request.payload = { eventTypes: randomValue(r, 3) }
  else if (field === 'pattern') request.payload = { eventTypes: ['session.*', randomValue(r, 3)] }
  else own(request, field, randomValue(r, 3))
  return JSON.stringify(request)
}

function mutate (r: Random, text: string): string {
  let s = text
  for (let ops = 1 + r.int(4); ops > 0; ops--) {
    const at = r.int(s.length + 1)
    switch (r.int(6)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + r.int(4)); break
      case 1: s = s.slice(0, at) + r.pick(CHARS) + s.slice(at); break
      case 2: s = s.slice(0, at) + r.pick(CHARS) + s.slice(at + 1); break
      case 3: s = s.slice(0, at) + s.slice(r.int(s.length), r.int(s.length) + 40) + s.slice(at); break
      case 4: s = s.slice(0, at); break
      default: s = s.slice(0, at) + r.pick(HUGE_NUMBERS) + s.slice(at)
    }
  }
  return s
}

const PROTOTYPE_FRAMES = [
  '{"__proto__":{"type":"ping"}}',
  '{"type":"__proto__"}',
  '{"type":"constructor","id":"c"}',
  '{"type":"toString"}',
  '{"type":"hasOwnProperty"}',
  '{"type":"valueOf","payload":{}}',
  '{"type":"__defineGetter__"}',
  '{"type":"subscribe","payload":{"__proto__":{"eventTypes":["*"]}}}',
  '{"type":"subscribe","payload":{"eventTypes":["constructor","prototype","constructor.prototype","__proto__"]}}',
  '{"type":"subscribe","payload":{"eventTypes":{"__proto__":["*"],"length":1,"0":"*"}}}',
  '{"type":"ping","id":"__proto__"}',
  '{"type":"ping","payload":{"constructor":{"prototype":{"polluted":true}}}}',
  '{"constructor":{"prototype":{"type":"ping","polluted":true}}}',
  '{"type":"ping","payload":{"__proto__":{"polluted":true}}}',
  '{"type":"get_subscriptions","__proto__":{"polluted":true},"payload":{"__proto__":null}}',
  '{"type":"unsubscribe","payload":{"eventTypes":["__proto__.*","constructor.*"]}}'
]

function unicode (r: Random): string {
  const odd = (): string => Array.from({ length: 1 + r.int(12) }, () => r.pick(CHARS.slice(19))).join('')
  switch (r.int(6)) {
    case 0: return JSON.stringify({ type: `p${odd()}ng`, id: odd() })
    case 1: return JSON.stringify({ type: 'subscribe', id: odd(), payload: { eventTypes: [`auth${odd()}.*`, odd()] } })
    case 2: return '\ufeff' + JSON.stringify(validRequest(r))
    case 3: return '{"type":"ping","id":"\\ud800\\udc00\\ud800"}'
    case 4: return JSON.stringify({ type: 'ping', id: odd().repeat(40) })
    default: return `{"type":"subscribe","payload":{"eventTypes":["\\u0061\\u002e\\u002a","${odd()}"]}}`
  }
}

function hugeNumbers (r: Random): string {
  const n = r.pick(HUGE_NUMBERS)
  return r.pick([
    `{"type":"ping","id":${n}}`,
    `{"type":${n}}`,
    `{"type":"subscribe","id":${n},"payload":{"eventTypes":[${n}]}}`,
    `{"type":"subscribe","payload":{"eventTypes":${n}}}`,
    `{"type":"ping","payload":${n}}`,
    n
  ])
}

/** A `ping` of exactly `bytes` bytes, padded: the boundary frames either side of WEBSOCKET_MAX_PAYLOAD. */
function paddedPing (bytes: number): string {
  const empty = '{"type":"ping","pad":""}'
  return `{"type":"ping","pad":"${'x'.repeat(bytes - empty.length)}"}`
}

const GENERATORS: Array<[number, string, (r: Random) => Frame]> = [
  [12, 'valid', (r) => text(JSON.stringify(validRequest(r)))],
  [20, 'wrong-types', (r) => text(wrongTypes(r))],
  [28, 'mutated', (r) => text(mutate(r, r.chance(0.8) ? JSON.stringify(validRequest(r)) : r.pick(PROTOTYPE_FRAMES)))],
  [10, 'random-text', (r) => text(randomString(r, r.chance(0.95) ? r.int(200) : r.int(MAX_PAYLOAD / 2)))],
  [8, 'random-binary', (r) => ({ data: r.bytes(r.chance(0.95) ? r.int(2048) : MAX_PAYLOAD - 2 + r.int(5)), binary: true, kind: 'random-binary' })],
  [8, 'prototype', (r) => text(r.pick(PROTOTYPE_FRAMES))],
  [6, 'unicode', (r) => text(unicode(r))],
  [6, 'huge-numbers', (r) => text(hugeNumbers(r))],
  [1.5, 'boundary', (r) => text(paddedPing(MAX_PAYLOAD - 3 + r.int(7)))],
  [0.3, 'invalid-utf8', (r) => ({ data: Buffer.concat([Buffer.from('{"type":"ping","id":"'), r.pick([Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])]), Buffer.from('"}')]), binary: false, kind: 'invalid-utf8' })]
]
const TOTAL_WEIGHT = GENERATORS.reduce((sum, [w]) => sum + w, 0)

function text (data: string): Frame { return { data, binary: false, kind: '' } }

function generate (r: Random): Frame {
  let roll = r.next() * TOTAL_WEIGHT
  for (const [weight, kind, make] of GENERATORS) {
    roll -= weight
    if (roll < 0) return { ...make(r), kind }
  }
  throw new Error('unreachable')
}

// ---------------------------------------------------------------- one fuzzed socket

interface Reply { type?: unknown, id?: unknown, payload?: Record<string, unknown> }

interface Received { slot: number, generation: number, userId: string, stream: Stream, event: { id: string, type: string, userId?: string } }

interface Run {
  violations: string[]
  received: Received[]
  closes: Map<number, number>
  framesSent: number
  bytesSent: number
  reconnects: number
  kinds: Map<string, number>
}

class FuzzSocket {
  private socket: WebSocket | undefined
  private replies = 0
  private handled = 0
  private closed: Promise<number> = Promise.resolve(0)
  private waiter: { id: string, resolve: (frame: Reply) => void } | undefined
  generation = 0

  constructor (readonly slot: number, readonly userId: string, readonly stream: Stream, private readonly url: string, private readonly bearer: string, private readonly run: Run) {}

  private violation (message: string): void {
    this.run.violations.push(`seed ${SEED}, slot ${this.slot} (${this.stream} ${this.userId}): ${message}`)
  }

  async open (): Promise<void> {
    this.generation++
    this.replies = 0
    this.handled = 0
    const generation = this.generation
    const socket = new WebSocket(`${this.url}/ws/${this.stream}`, { headers: { authorization: `Bearer ${this.bearer}` } })
    this.socket = socket
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)))
    const connected = new Promise<void>((resolve, reject) => {
      socket.on('message', (data, isBinary) => {
        if (isBinary) return this.violation('the server sent a binary frame')
        let frame: Reply
        try {
          frame = JSON.parse(data.toString()) as Reply
        } catch {
          return this.violation(`the server sent a frame that is not JSON: ${data.toString().slice(0, 80)}`)
        }
        if (frame.type === 'connected') return resolve()
        if (frame.type === 'event') {
          this.run.received.push({ slot: this.slot, generation, userId: this.userId, stream: this.stream, event: frame.payload as Received['event'] })
          return
        }
        if (this.waiter !== undefined && frame.id === this.waiter.id) return this.waiter.resolve(frame)
        this.replies++
        if (frame.type === 'error') {
          const code = frame.payload?.code
          if (typeof code !== 'string' || !ERROR_CODES.has(code) || typeof frame.payload?.message !== 'string') {
            this.violation(`unexpected error frame ${JSON.stringify(frame).slice(0, 200)}`)
          }
        } else if (typeof frame.type !== 'string' || !REPLY_TYPES.has(frame.type) || typeof frame.payload !== 'object') {
          this.violation(`unexpected frame ${JSON.stringify(frame).slice(0, 200)}`)
        }
      })
      void this.closed.then((code) => reject(new Error(`closed ${code} before connected`)))
    })
    await within(connected, WAIT_MS, `slot ${this.slot} to connect`)
  }

  send (data: string | Buffer, binary = false): void {
    this.socket?.send(data, { binary })
  }

  /**
   * Sends a well-formed request and resolves with the reply that echoes `id` (the fuzz's own
   * ids never take this form). Fails if the socket closes first.
   */
  async request (type: string, id: string, payload?: Record<string, unknown>): Promise<Reply> {
    const reply = new Promise<Reply>((resolve) => { this.waiter = { id, resolve } })
    this.send(JSON.stringify({ type, id, ...(payload === undefined ? {} : { payload }) }))
    const result = await within(Promise.race([reply, this.closed]), WAIT_MS, `slot ${this.slot}: reply ${id}`)
    this.waiter = undefined
    if (typeof result === 'number') throw new Error(`slot ${this.slot} closed ${result} while waiting for reply ${id}`)
    return result
  }

  /**
   * Sends the round's frames, then a ping: frames are handled in order, one reply each, so
   * when the pong comes every earlier frame must have been answered.
   */
  async round (frames: Frame[], round: number): Promise<void> {
    for (const frame of frames) {
      const size = typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length
      this.run.framesSent++
      this.run.bytesSent += size
      this.run.kinds.set(frame.kind, (this.run.kinds.get(frame.kind) ?? 0) + 1)
      const expectedClose = size > MAX_PAYLOAD ? 1009 : frame.kind === 'invalid-utf8' ? 1007 : undefined
      this.send(frame.data, frame.binary)
      if (expectedClose === undefined) {
        this.handled++
        continue
      }
      const code = await within(this.closed, WAIT_MS, `slot ${this.slot} to close ${expectedClose}`)
      this.run.closes.set(code, (this.run.closes.get(code) ?? 0) + 1)
      if (code !== expectedClose) this.violation(`a ${frame.kind} frame of ${size} bytes closed ${code}, expected ${expectedClose}`)
      this.run.reconnects++
      await this.open()
    }
    try {
      const pong = await this.request('ping', `barrier-${round}`)
      if (pong.type !== 'pong') this.violation(`round ${round}: the barrier ping got ${JSON.stringify(pong).slice(0, 200)}`)
    } catch (err) {
      this.violation(`round ${round}: ${(err as Error).message}`)
      await this.open()
      return
    }
    if (this.replies !== this.handled) this.violation(`round ${round}: ${this.handled} frames handled, ${this.replies} replies`)
    this.replies = 0
    this.handled = 0
  }

  terminate (): void { this.socket?.terminate() }
}

// ---------------------------------------------------------------- the run

function collector (): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

function measure (gc: () => void): NodeJS.MemoryUsage {
  gc()
  gc()
  return process.memoryUsage()
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

t.test(`fuzz: ${FRAMES} random and mutated frames against one gateway (FUZZ_SEED=${SEED})`, async (t) => {
  t.comment(`FUZZ_SEED=${SEED}`)
  const gw = await startGateway(t, {
    WEBSOCKET_MAX_PAYLOAD: String(MAX_PAYLOAD),
    // The message limiter is not under test: these let every frame reach the parser.
    WEBSOCKET_MESSAGE_BURST: '1000000',
    WEBSOCKET_MESSAGE_RATE: '1000000',
    WEBSOCKET_MESSAGE_ABUSE_LIMIT: '1000000',
    RATE_LIMIT_UPGRADES: '1000000',
    RATE_LIMIT_PUBLISH: '1000000',
    // Only error lines are kept: one means a frame made the gateway fail (or log as if it had).
    LOG_LEVEL: 'error'
  }, { captureLogs: true })
  const run: Run = { violations: [], received: [], closes: new Map(), framesSent: 0, bytesSent: 0, reconnects: 0, kinds: new Map() }
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()

  const sockets: FuzzSocket[] = []
  for (const userId of USERS) {
    for (let i = 0; i < USER_SOCKETS_PER_USER; i++) sockets.push(new FuzzSocket(sockets.length, userId, 'events', gw.wsUrl, userToken(userId), run))
  }
  for (let i = 0; i < ADMIN_SOCKETS; i++) sockets.push(new FuzzSocket(sockets.length, 'root', 'admin', gw.wsUrl, adminToken('root'), run))
  t.teardown(() => { for (const s of sockets) s.terminate() })
  await Promise.all(sockets.map(async (s) => await s.open()))
  const subscribed = await Promise.all(sockets.map(async (s) => (await s.request('subscribe', 'setup', { eventTypes: ['*'] })).type))
  t.same(subscribed, sockets.map(() => 'subscribed'), `${sockets.length} connections subscribed to *`)

  const gc = collector()
  const start = measure(gc)
  const started = Date.now()

  const published = new Map<string, { userId: string | undefined, type: string }>()
  const publisher = new Random(SEED ^ 0x5eed)
  async function publishRound (round: number): Promise<void> {
    const inputs: Array<{ type: string, userId?: string, data?: unknown }> = [
      ...USERS.flatMap((userId) => [{ type: 'authentication.login.success', userId }, { type: pattern(publisher).replace(/\*/g, 'w'), userId }]),
      { type: 'security.ip.blocked' },
      { type: 'admin.user.deleted' },
      { type: 'admin.audit.note', userId: publisher.pick(USERS) }
    ].map((e, n) => ({ ...e, data: { round, n } }))
    const res = await post(`${gw.url}/events`, { events: inputs }, serviceToken())
    if (res.status !== 202) {
      run.violations.push(`seed ${SEED}: publishing in round ${round} answered ${res.status} ${JSON.stringify(res.body)}`)
      return
    }
    ;(res.body.ids as string[]).forEach((id, i) => published.set(id, { userId: inputs[i]?.userId, type: inputs[i]?.type ?? '' }))
  }

  const generators = sockets.map((s) => new Random(SEED + s.slot * 7919))
  const rounds = Math.ceil(FRAMES / (sockets.length * FRAMES_PER_ROUND))
  // Memory is compared from the end of the first quarter: by then compiled code, V8's inline
  // caches and the pools of ws, pino and Fastify have grown to their working size (2-3 MB of
  // heap, reached within the first few thousand frames and flat after).
  const warmUpRounds = Math.ceil(rounds / 4)
  let warm = start
  let bytesAtWarm = 0
  for (let round = 0; round < rounds; round++) {
    if (round === warmUpRounds) {
      warm = measure(gc)
      bytesAtWarm = run.bytesSent
    }
    await Promise.all([
      publishRound(round),
      ...sockets.map(async (s, i) => {
        const r = generators[i] as Random
        await s.round(Array.from({ length: FRAMES_PER_ROUND }, () => generate(r)), round)
      })
    ])
  }
  const fuzzMs = Date.now() - started

  // Every socket, fuzzed for the whole run, must still serve a well-formed client.
  const pongs = await Promise.all(sockets.map(async (s) => (await s.request('ping', 'final-ping')).type))
  t.same(pongs, sockets.map(() => 'pong'), 'every connection answers a well-formed ping after the fuzz')
  await until(() => gw.app.hub.size === sockets.length, WAIT_MS, 'the hub to release closed connections')
  t.equal(gw.app.hub.size, sockets.length, 'the hub holds exactly the live connections: closed ones were released')

  // Delivery after the fuzz: reset every socket to `*`, publish one event per user, a broadcast
  // and an admin-only event; each socket gets exactly what it is entitled to.
  const reset = await Promise.all(sockets.map(resetSubscriptions))
  t.same(reset, sockets.map(() => 'subscribed'), 'every connection subscribes to * again')
  const check: Array<{ type: string, userId?: string }> = [...USERS.map((userId) => ({ type: 'session.created', userId })), { type: 'system.notice' }, { type: 'admin.final.check' }]
  const res = await post(`${gw.url}/events`, { events: check.map((e) => ({ ...e, data: { final: true } })) }, serviceToken())
  t.equal(res.status, 202, 'publishing after the fuzz')
  const finalIds = res.body.ids as string[]
  finalIds.forEach((id, i) => published.set(id, { userId: check[i]?.userId, type: check[i]?.type ?? '' }))
  for (const s of sockets) {
    const expected = finalIds.filter((_id, i) => s.stream === 'admin' || (!isAdminOnly(check[i]?.type ?? '') && (check[i]?.userId === undefined || check[i]?.userId === s.userId)))
    const got = (): string[] => run.received.filter((r) => r.slot === s.slot && r.generation === s.generation && finalIds.includes(r.event.id)).map((r) => r.event.id)
    await until(() => got().length >= expected.length, WAIT_MS, `slot ${s.slot} to receive the final events`)
    await s.request('ping', 'after-final')
    t.same(got().sort(), [...expected].sort(), `slot ${s.slot} (${s.stream} ${s.userId}) receives exactly its ${expected.length} final events`)
  }

  // Entitlement of every event frame delivered during the whole run.
  const seen = new Set<string>()
  let delivered = 0
  for (const r of run.received) {
    delivered++
    const key = `${r.slot}/${r.generation}/${r.event.id}`
    if (seen.has(key)) run.violations.push(`seed ${SEED}: slot ${r.slot} received event ${r.event.id} twice`)
    seen.add(key)
    const origin = published.get(r.event.id)
    if (r.stream === 'admin') {
      if (origin === undefined && !GATEWAY_ADMIN_PREFIXES.some((p) => r.event.type.startsWith(p)) && !GATEWAY_USER_EVENTS.has(r.event.type)) run.violations.push(`seed ${SEED}: admin slot ${r.slot} received an event nobody published: ${JSON.stringify(r.event)}`)
      continue
    }
    // The gateway's own lifecycle events about a user reach that user's streams, and no other.
    if (origin === undefined && GATEWAY_USER_EVENTS.has(r.event.type) && r.event.userId === r.userId) continue
    if (origin === undefined) {
      run.violations.push(`seed ${SEED}: slot ${r.slot} (${r.userId}) received an event nobody published: ${JSON.stringify(r.event).slice(0, 200)}`)
    } else if ((origin.userId !== undefined && origin.userId !== r.userId) || isAdminOnly(origin.type) || r.event.userId !== origin.userId) {
      run.violations.push(`seed ${SEED}: slot ${r.slot} (${r.userId}) received ${origin.type} for ${origin.userId ?? 'everyone'}`)
    }
  }

  const health = await get(`${gw.url}/ws/health`)
  t.equal(health.status, 200, 'the gateway is healthy after the fuzz')
  t.same(run.violations.slice(0, 20), [], `no violations (${run.violations.length}); replay with FUZZ_SEED=${SEED}`)
  t.same(gw.logs.slice(0, 5), [], 'no error was logged')
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys, 'Object.prototype is untouched')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no polluted property appears on objects')
  t.ok(run.framesSent >= 10_000, `${run.framesSent} frames sent`)
  t.ok(delivered > 0, `${delivered} event frames delivered during the fuzz, all to entitled connections`)

  run.received.length = 0
  published.clear()
  const after = measure(gc)
  t.comment(`fuzz: ${run.framesSent} frames (${mb(run.bytesSent)}) on ${sockets.length} connections of ${USERS.length + 1} users in ${fuzzMs} ms; ` +
    `${run.reconnects} reconnects after documented closes ${JSON.stringify(Object.fromEntries(run.closes))}; ${delivered} event frames; ` +
    `kinds ${JSON.stringify(Object.fromEntries(run.kinds))}`)
  const figures = (m: NodeJS.MemoryUsage): string => `heapUsed ${mb(m.heapUsed)}, external ${mb(m.external)}, rss ${mb(m.rss)}`
  t.comment(`memory after gc: start ${figures(start)}; after warm-up ${figures(warm)}; end ${figures(after)}`)
  // The leak bound is a quarter of the bytes sent after the warm-up (~14 MB by default). The
  // cheapest leak a parser could have, keeping the text of every frame, grows the heap by about
  // half those bytes (binary and oversize frames are never decoded): ~7 MB, caught. Measured
  // growth without a leak is about 1 MB, and 4 MB is the floor, so short runs do not flake.
  const leakBound = Math.max(4 * 1024 * 1024, (run.bytesSent - bytesAtWarm) / 4)
  t.ok(after.heapUsed - warm.heapUsed < leakBound, `heap grew ${mb(after.heapUsed - warm.heapUsed)} after the warm-up (bound ${mb(leakBound)})`)
  t.ok(after.external - warm.external < leakBound, `external memory grew ${mb(after.external - warm.external)} (bound ${mb(leakBound)})`)
  // RSS also holds the allocator's high-water mark and V8's reserved spaces, which are not
  // returned to the OS: over the default run it rises 20-40 MB on Node 20 and 80-105 MB on Node
  // 24, whose young generation may grow to 64 MB semi-spaces, and no further over 120,000
  // frames. 160 MB over the whole run catches runaway growth, not small leaks (above).
  t.ok(after.rss - start.rss < 160 * 1024 * 1024, `rss grew ${mb(after.rss - start.rss)} over the run (bound 160 MB)`)
})

/** Drops whatever patterns the fuzz left on a socket (up to the subscription cap) and subscribes `*`. */
async function resetSubscriptions (s: FuzzSocket): Promise<unknown> {
  const held = (await s.request('get_subscriptions', 'reset-get')).payload?.eventTypes
  if (Array.isArray(held) && held.length > 0) await s.request('unsubscribe', 'reset-unsubscribe', { eventTypes: held })
  return (await s.request('subscribe', 'reset-subscribe', { eventTypes: ['*'] })).type
}
