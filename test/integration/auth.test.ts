import { createSigner } from 'fast-jwt'
import t, { type Test } from 'tap'
import { adminToken, keyPair, serviceToken, token, userToken } from '../../harness/tokens.js'
import { connect } from '../helpers/client.js'
import { type Gateway, get, post, startGateway } from '../helpers/gateway.js'
import { postHead, RawClient } from '../helpers/raw.js'

const now = (): number => Math.floor(Date.now() / 1000)

t.test('each token source is accepted: header, cookie, query', async (t) => {
  const gw = await startGateway(t)
  const url = `${gw.wsUrl}/ws/events`
  const sources = {
    header: await connect(t, url, { headers: { authorization: `Bearer ${userToken('alice')}` } }),
    cookie: await connect(t, url, { headers: { cookie: `theme=dark; access_token=${userToken('alice')}` } }),
    query: await connect(t, `${url}?token=${userToken('alice')}`)
  }
  for (const [source, client] of Object.entries(sources)) {
    const connected = await client.next('connected')
    t.equal(connected.payload.userId, 'alice', `${source} token accepted`)
    t.equal(typeof connected.payload.connectionId, 'string')
    t.equal(connected.payload.heartbeatIntervalMs, 30000)
    t.match(connected.payload.expiresAt, /^\d{4}-\d\d-\d\dT/)
  }
})

t.test('the header wins over the cookie and the query', async (t) => {
  const gw = await startGateway(t)
  const client = await connect(t, `${gw.wsUrl}/ws/events?token=${userToken('carol')}`, {
    headers: { authorization: `Bearer ${userToken('alice')}`, cookie: `access_token=${userToken('bob')}` }
  })
  t.equal((await client.next('connected')).payload.userId, 'alice')
})

t.test('bad tokens close the socket with 4001 and a short reason', async (t) => {
  const gw = await startGateway(t, { AUTH_FAILURE_LIMIT: '100', WEBSOCKET_AUTH_TIMEOUT: '50' })
  const valid = userToken('alice')
  const [header, payload] = valid.split('.')
  const forged = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<string, unknown>
  const { publicKey } = keyPair('rsa')
  const cases: Record<string, [string | undefined, string]> = {
    missing: [undefined, 'token_missing'],
    expired: [token({ sub: 'alice', exp: now() - 10 }), 'token_expired'],
    'not yet valid (nbf)': [token({ sub: 'alice', nbf: now() + 600 }), 'token_invalid'],
    tampered: [`${header as string}.${Buffer.from(JSON.stringify({ ...forged, sub: 'mallory' })).toString('base64url')}.${valid.split('.')[2] as string}`, 'token_invalid'],
    'wrong secret': [token({ sub: 'alice' }, 'another-secret-that-is-also-long-enough-000000'), 'token_invalid'],
    'alg none': [`${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload as string}.`, 'token_invalid'],
    'RS256 when HS256 is configured': [createSigner({ key: keyPair('rsa').privateKey, algorithm: 'RS256' })({ sub: 'alice' }), 'token_invalid'],
    'HS256 signed with a public key': [token({ sub: 'alice' }, publicKey), 'token_invalid'],
    truncated: [valid.slice(0, valid.length - 10), 'token_invalid'],
    garbage: ['not-a-jwt', 'token_invalid'],
    'missing sub': [token({ roles: ['admin'] }), 'token_invalid'],
    'non-string sub': [token({ sub: 42 }), 'token_invalid'],
    huge: [token({ sub: 'alice', padding: 'x'.repeat(9000) }), 'token_invalid']
  }
  for (const [name, [jwt, reason]] of Object.entries(cases)) {
    const client = await connect(t, `${gw.wsUrl}/ws/events`, jwt === undefined ? {} : { headers: { authorization: `Bearer ${jwt}` } })
    // Without any token the socket waits for `authenticate` until WEBSOCKET_AUTH_TIMEOUT.
    t.same(await client.closed, { code: 4001, reason: jwt === undefined ? 'auth_timeout' : reason }, name)
    const http = await post(`${gw.url}/events`, { type: 'security.alert' }, jwt)
    t.match(http, { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED', message: reason } }, `${name} over HTTP`)
  }
})

t.test('iss and aud are enforced when configured', async (t) => {
  const gw = await startGateway(t, { JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'eventgate' })
  const url = `${gw.wsUrl}/ws/events`
  const good = token({ sub: 'alice', iss: 'https://auth.example.com', aud: 'eventgate' })
  const wrongIss = token({ sub: 'alice', iss: 'https://evil.example.com', aud: 'eventgate' })
  const wrongAud = token({ sub: 'alice', iss: 'https://auth.example.com', aud: 'other' })
  t.equal((await (await connect(t, url, { headers: { authorization: `Bearer ${good}` } })).next('connected')).payload.userId, 'alice')
  t.same(await (await connect(t, url, { headers: { authorization: `Bearer ${wrongIss}` } })).closed, { code: 4001, reason: 'token_invalid' })
  t.same(await (await connect(t, url, { headers: { authorization: `Bearer ${wrongAud}` } })).closed, { code: 4001, reason: 'token_invalid' })
})

for (const type of ['rsa', 'ec'] as const) {
  t.test(`a ${type} public key verifies its own tokens and pins the algorithm`, async (t) => {
    const { publicKey, privateKey } = keyPair(type)
    const gw = await startGateway(t, { JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey })
    const algorithm = type === 'rsa' ? 'RS256' : 'ES256'
    const signed = createSigner({ key: privateKey, algorithm })({ sub: 'alice', exp: now() + 60 })
    const client = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${signed}` } })
    t.equal((await client.next('connected')).payload.userId, 'alice')
    const confused = token({ sub: 'alice' }, publicKey)
    const refused = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${confused}` } })
    t.same(await refused.closed, { code: 4001, reason: 'token_invalid' }, 'HS256 with the public key as secret is refused')
  })
}

t.test('/ws/admin refuses a user with 4003 and accepts an admin', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_AUTH_TIMEOUT: '50' })
  const user = await connect(t, `${gw.wsUrl}/ws/admin`, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.same(await user.closed, { code: 4003, reason: 'admin_required' })
  const anonymous = await connect(t, `${gw.wsUrl}/ws/admin`)
  t.same(await anonymous.closed, { code: 4001, reason: 'auth_timeout' })
  const admin = await connect(t, `${gw.wsUrl}/ws/admin`, { headers: { authorization: `Bearer ${adminToken()}` } })
  t.equal((await admin.next('connected')).payload.userId, 'admin-1')
})

t.test('audit records name the outcome, and no token reaches a log line', async (t) => {
  const gw = await startGateway(t, {}, { captureLogs: true })
  const secret = userToken('alice')
  const bad = token({ sub: 'alice', exp: now() - 10 })
  const ok = await connect(t, `${gw.wsUrl}/ws/events?token=${secret}`, { headers: { 'user-agent': 'audit-test' } })
  await ok.next('connected')
  const refused = await connect(t, `${gw.wsUrl}/ws/events?foo=1&token=${bad}`)
  await refused.closed
  await get(`${gw.url}/ws/stats?access_token=${secret}`, bad)
  const audits = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.audit).startsWith('security.auth.'))
  t.match(audits, [
    { audit: 'security.auth.succeeded', userId: 'alice', userAgent: 'audit-test', ip: '127.0.0.1', route: '/ws/events' },
    { audit: 'security.auth.failed', reason: 'token_expired', route: '/ws/events' },
    { audit: 'security.auth.failed', reason: 'token_expired', route: '/ws/stats' }
  ])
  const all = gw.logs.join('\n')
  for (const jwt of [secret, bad]) {
    t.notOk(all.includes(jwt), 'no token in the logs')
    t.notOk(all.includes(jwt.split('.')[2] as string), 'not even its signature')
  }
  t.match(all, /token=\[REDACTED\]/)
})

t.test('the accessToken cookie opens a socket too; access_token wins when both are sent', async (t) => {
  const gw = await startGateway(t)
  const url = `${gw.wsUrl}/ws/events`
  const alias = await connect(t, url, { headers: { cookie: `theme=dark; accessToken=${userToken('alice')}` } })
  t.equal((await alias.next('connected')).payload.userId, 'alice')
  const both = await connect(t, url, { headers: { cookie: `accessToken=${userToken('bob')}; access_token=${userToken('carol')}` } })
  t.equal((await both.next('connected')).payload.userId, 'carol')
  t.equal((await post(`${gw.url}/events`, { type: 'security.alert' }, undefined, { cookie: `accessToken=${serviceToken()}` })).status, 401, 'never on HTTP')
})

t.test('the access_token cookie opens WebSockets only, never an HTTP request', async (t) => {
  const gw = await startGateway(t)
  const cookie = `access_token=${serviceToken()}`
  const published = await post(`${gw.url}/events`, { type: 'security.alert' }, undefined, { cookie })
  t.match(published, { status: 401, body: { code: 'EVENTGATE_UNAUTHORIZED', message: 'token_missing' } }, 'a cross-site form could send it')
  t.equal((await post(`${gw.url}/ws/ticket`, {}, undefined, { cookie })).status, 401, 'nor trade it for a ticket')
  const socket = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { cookie } })
  t.equal((await socket.next('connected')).payload.userId, 'auth-service', 'the upgrade, behind the origin check, takes it')
})

/** The first frame the gateway sends on a WebSocket upgraded over a bare socket to `path`. */
async function firstFrame (t: Test, gw: Gateway, path: string): Promise<{ opcode: number, payload: Buffer }> {
  const raw = await RawClient.open(t, gw.url)
  raw.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`)
  // Server frames are unmasked; these are short: a length byte, or 126 and two length bytes.
  const frameAt = (data: Buffer): { start: number, length: number } | undefined => {
    const end = data.indexOf('\r\n\r\n')
    if (end === -1 || data.length < end + 6) return undefined
    const short = (data[end + 5] as number) & 0x7f
    return short === 126 ? { start: end + 8, length: data.readUInt16BE(end + 6) } : { start: end + 6, length: short }
  }
  const data = await raw.until((d) => { const f = frameAt(d); return f !== undefined && d.length >= f.start + f.length }, 5000, 'the first frame')
  t.match(data.toString('latin1'), /^HTTP\/1\.1 101 /)
  const { start, length } = frameAt(data) as { start: number, length: number }
  return { opcode: (data[data.indexOf('\r\n\r\n') + 4] as number) & 0x0f, payload: data.subarray(start, start + length) }
}

t.test('a token after # neither authenticates nor reaches a log line', async (t) => {
  const gw = await startGateway(t, { WEBSOCKET_AUTH_TIMEOUT: '50' }, { captureLogs: true })
  const jwt = userToken('alice')
  for (const path of [`/ws/events#token=${jwt}`, `/ws/events#?token=${jwt}`, `/ws/events?x=1#access_token=${jwt}`]) {
    const close = await firstFrame(t, gw, path)
    t.equal(close.opcode, 8, `${path.slice(0, 24)}…: a close frame`)
    t.same([close.payload.readUInt16BE(0), close.payload.subarray(2).toString()], [4001, 'auth_timeout'], 'no token: it waited for `authenticate`')
  }
  const raw = await RawClient.open(t, gw.url)
  raw.write(postHead(`/events#token=${serviceToken()}`, 2) + '{}')
  t.equal(await raw.status(5000), 401, 'nor on HTTP')
  const accepted = await firstFrame(t, gw, `/ws/events?token=${jwt}#${jwt}`)
  t.match(accepted.payload.toString(), /"type":"connected"/, 'the query before the fragment still does')
  const all = gw.logs.join('\n')
  t.match(all, /#\[REDACTED\]/, 'the request lines were written, fragment redacted')
  t.notOk(all.includes(jwt.split('.')[2] as string), 'no log line holds the token')
})
