import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { adminToken, serviceToken, TEST_SECRET, userToken } from '../../harness/tokens.js'
import { loadConfig } from '../../src/config.js'
import { connect } from '../helpers/client.js'
import { startGateway } from '../helpers/gateway.js'
import { within } from '../helpers/within.js'

const CLEAR_TEXT = /clear text/

/** A self-signed P-256 certificate for 127.0.0.1, made by `openssl` in a temp dir for this file alone. */
function makeCertificate (): { certFile: string, keyFile: string, cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'eventgate-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile
    ], { stdio: 'pipe' })
  } catch (err) {
    throw new Error('these tests need `openssl` on PATH to make a certificate', { cause: err })
  }
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') }
}

const tls = makeCertificate()
const TLS_ENV = { TLS_CERT: tls.certFile, TLS_KEY: tls.keyFile }

/** A request over HTTPS that trusts only `ca` (none: the system's roots). */
async function httpsRequest (url: string, ca: string | undefined, options: { method?: string, headers?: Record<string, string>, body?: unknown } = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  return await new Promise((resolve, reject) => {
    const headers = { ...options.headers, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) }
    const req = request(url, { ca, method: options.method ?? 'GET', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body))
  })
}

const clearTextWarnings = (logs: string[]) => logs.filter((l) => CLEAR_TEXT.test(l))

/** The `ip` of the audit record of a successful authentication of `userId`. */
function auditedIp (logs: string[], userId: string): unknown {
  const records = logs.map((l) => JSON.parse(l) as Record<string, unknown>)
  const record = records.find((r) => typeof r.audit === 'string' && /auth/.test(r.audit) && r.userId === userId && 'ip' in r)
  return record?.ip
}

t.test('with TLS_CERT and TLS_KEY the gateway serves HTTPS and WSS, verified against the certificate', async (t) => {
  const gw = await startGateway(t, TLS_ENV)
  t.match(gw.url, /^https:\/\/127\.0\.0\.1:/)
  t.match(await httpsRequest(`${gw.url}/ws/health`, tls.cert), { status: 200, body: { healthy: true } }, 'HTTPS health')

  const alice = await connect(t, `${gw.wsUrl}/ws/events`, { ca: tls.cert, headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.equal((await alice.next('connected')).type, 'connected', 'WSS connection')
  t.equal((await alice.subscribe('session.*')).type, 'subscribed')
  const published = await httpsRequest(`${gw.url}/events`, tls.cert, {
    method: 'POST', headers: { authorization: `Bearer ${serviceToken()}` }, body: { type: 'session.created', userId: 'alice', data: { over: 'tls' } }
  })
  t.equal(published.status, 202, 'HTTPS publish')
  t.same((await alice.events(1))[0]?.data, { over: 'tls' }, 'the event arrives over WSS')

  await t.rejects(httpsRequest(`${gw.url}/ws/health`, undefined), { code: /SELF_SIGNED/ }, 'a client that does not trust the certificate is refused')
  const untrusting = await connect(t, `${gw.wsUrl}/ws/events`, { headers: { authorization: `Bearer ${userToken('alice')}` } })
  t.equal((await within(untrusting.closed, 5000, 'the untrusting socket to fail')).code, 1006, 'so is a WebSocket that does not trust it')
  await t.rejects(fetch(`${gw.url.replace('https:', 'http:')}/ws/health`), 'plain HTTP is not served on the TLS port')
})

t.test('in production, one startup warning without TLS or a trusted proxy, none with either', async (t) => {
  const production = { NODE_ENV: 'production', METRICS_PUBLIC: 'true' }
  const plain = await startGateway(t, production, { captureLogs: true })
  const lines = clearTextWarnings(plain.logs).map((l) => JSON.parse(l) as { level: number, msg: string })
  t.equal(lines.length, 1, 'one warning')
  t.equal(lines[0]?.level, 40, 'at level warn')
  t.match(lines[0]?.msg, /tokens included/, 'it says tokens travel in clear text')

  const secure = await startGateway(t, { ...production, ...TLS_ENV }, { captureLogs: true })
  t.same(clearTextWarnings(secure.logs), [], 'none with TLS')
  const proxied = await startGateway(t, { ...production, TRUST_PROXY: '10.0.0.0/8' }, { captureLogs: true })
  t.same(clearTextWarnings(proxied.logs), [], 'none behind a trusted proxy')
  const development = await startGateway(t, { NODE_ENV: 'development' }, { captureLogs: true })
  t.same(clearTextWarnings(development.logs), [], 'none outside production')
})

t.test('TRUST_PROXY: X-Forwarded-For sets request.ip only when the peer is a trusted proxy', async (t) => {
  const forwarded = { 'x-forwarded-for': '203.0.113.9' }
  const cases: Array<[string, Record<string, string>, string]> = [
    ['TRUST_PROXY=127.0.0.1', { TRUST_PROXY: '127.0.0.1' }, '203.0.113.9'],
    ['no TRUST_PROXY', {}, '127.0.0.1'],
    ['a proxy list without this peer', { TRUST_PROXY: '10.0.0.1,192.168.0.0/16' }, '127.0.0.1']
  ]
  for (const [name, env, ip] of cases) {
    const gw = await startGateway(t, env, { captureLogs: true })
    const res = await fetch(`${gw.url}/events`, {
      method: 'POST',
      headers: { ...forwarded, authorization: `Bearer ${adminToken('http-admin')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'a.b' })
    })
    t.equal(res.status, 202, `${name}: published`)
    t.equal(auditedIp(gw.logs, 'http-admin'), ip, `${name}: HTTP audit ip`)
    await connect(t, `${gw.wsUrl}/ws/events`, { headers: { ...forwarded, authorization: `Bearer ${userToken('ws-user')}` } })
    t.equal(auditedIp(gw.logs, 'ws-user'), ip, `${name}: WebSocket audit ip`)
    await gw.close()
  }
})

t.test('a TRUST_PROXY hop count is refused at start', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, TRUST_PROXY: '2' }), { variable: 'TRUST_PROXY', message: /not a hop count/ })
})
