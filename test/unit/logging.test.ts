import pino from 'pino'
import t from 'tap'
import { loggerOptions, redactUrl } from '../../src/logging.js'

t.test('redactUrl hides credential query values and leaves the rest', async (t) => {
  const cases: Array<[string, string]> = [
    ['/ws/events?token=abc.def.ghi', '/ws/events?token=[REDACTED]'],
    ['/ws/events?token=abc&x=1', '/ws/events?token=[REDACTED]&x=1'],
    ['/ws/events?x=1&token=abc&y=2', '/ws/events?x=1&token=[REDACTED]&y=2'],
    ['/ws/events?x=1&access_token=abc', '/ws/events?x=1&access_token=[REDACTED]'],
    ['/ws/events?accessToken=abc&x=1', '/ws/events?accessToken=[REDACTED]&x=1'],
    ['/ws/events?ticket=t-1#frag', '/ws/events?ticket=[REDACTED]#[REDACTED]'],
    ['/ws/events#token=abc.def.ghi', '/ws/events#[REDACTED]'],
    ['/ws/events#access_token=abc&x=1', '/ws/events#[REDACTED]'],
    ['/ws/events#abc.def.ghi', '/ws/events#[REDACTED]'],
    ['/ws/events?x=1#y?token=abc', '/ws/events?x=1#[REDACTED]'],
    ['/ws/events#?token=abc', '/ws/events#[REDACTED]'],
    ['/ws/events?x=1#', '/ws/events?x=1#'],
    ['/ws/events?TOKEN=abc&Access_Token=def&TiCkEt=ghi', '/ws/events?TOKEN=[REDACTED]&Access_Token=[REDACTED]&TiCkEt=[REDACTED]'],
    ['/ws/events?token=a&token=b', '/ws/events?token=[REDACTED]&token=[REDACTED]'],
    ['/ws/events?token=', '/ws/events?token=[REDACTED]'],
    ['/ws/events?mytoken=keep&token_type=bearer&tickets=3', '/ws/events?mytoken=keep&token_type=bearer&tickets=3'],
    ['/events?page=2', '/events?page=2'],
    ['/token=abc', '/token=abc'],
    ['/events', '/events']
  ]
  for (const [url, expected] of cases) t.equal(redactUrl(url), expected, url)
})

const SECRET = 'eyJhbGciOiJIUzI1NiJ9.secret-payload.signature'

/** A pino logger with the gateway's options, writing its lines into an array. */
function capture (): { log: pino.Logger, lines: () => string[] } {
  const chunks: string[] = []
  const log = pino(loggerOptions('trace', 'eg-test'), { write: (chunk: string) => { chunks.push(chunk) } })
  return { log, lines: () => chunks.join('').split('\n').filter((l) => l !== '') }
}

t.test('a logger built with loggerOptions never prints a credential', async (t) => {
  const { log, lines } = capture()
  log.info({ token: SECRET }, 'top-level token')
  log.info({ ticket: SECRET, access_token: SECRET }, 'ticket and access_token')
  log.warn({ auth: { token: SECRET }, query: { token: SECRET, ticket: SECRET } }, 'nested one level')
  log.error({ headers: { authorization: `Bearer ${SECRET}`, cookie: `access_token=${SECRET}`, 'user-agent': 'ua/1' } }, 'headers')
  log.child({ token: SECRET }).debug('child bindings')
  t.equal(lines().length, 5)
  for (const line of lines()) t.notMatch(line, 'secret-payload', JSON.parse(line).msg)
  const [top, both, nested, headers] = lines().map((l) => JSON.parse(l))
  t.equal(top.token, '[REDACTED]')
  t.same([both.ticket, both.access_token], ['[REDACTED]', '[REDACTED]'])
  t.same(nested.query, { token: '[REDACTED]', ticket: '[REDACTED]' })
  t.same(headers.headers, { authorization: '[REDACTED]', cookie: '[REDACTED]', 'user-agent': 'ua/1' }, 'other headers stay')
})

t.test('an authorization or cookie field is censored at the top level and one level down', async (t) => {
  const { log, lines } = capture()
  log.info({ authorization: `Bearer ${SECRET}` }, 'top-level authorization')
  log.info({ cookie: `access_token=${SECRET}` }, 'top-level cookie')
  log.warn({ upgrade: { authorization: `Bearer ${SECRET}`, cookie: `accessToken=${SECRET}`, origin: 'https://a.example' } }, 'nested')
  log.child({ authorization: `Bearer ${SECRET}` }).info('child bindings')
  t.equal(lines().length, 4)
  for (const line of lines()) t.notMatch(line, 'secret-payload', JSON.parse(line).msg)
  const [authorization, cookie, nested] = lines().map((l) => JSON.parse(l))
  t.equal(authorization.authorization, '[REDACTED]')
  t.equal(cookie.cookie, '[REDACTED]')
  t.same(nested.upgrade, { authorization: '[REDACTED]', cookie: '[REDACTED]', origin: 'https://a.example' }, 'other fields stay')
})

t.test('the req serializer keeps a redacted URL and drops the headers', async (t) => {
  const { log, lines } = capture()
  const req = {
    method: 'GET',
    url: `/ws/events?token=${SECRET}&v=2`,
    ip: '10.0.0.1',
    headers: { authorization: `Bearer ${SECRET}`, cookie: `access_token=${SECRET}`, 'user-agent': 'ua/1' }
  }
  log.info({ req }, 'incoming request')
  const [line] = lines()
  t.notMatch(line, 'secret-payload')
  t.same(JSON.parse(line ?? '{}').req, { method: 'GET', url: '/ws/events?token=[REDACTED]&v=2', ip: '10.0.0.1', userAgent: 'ua/1' })
})

t.test('the req serializer cuts a huge URL and user agent, redacting before it cuts', async (t) => {
  const { log, lines } = capture()
  const req = { method: 'GET', url: `/ws/events?x=${'a'.repeat(8192)}&token=${SECRET}`, ip: '10.0.0.1', headers: { 'user-agent': 'u'.repeat(8192) } }
  log.info({ req }, 'incoming request')
  const [line] = lines()
  t.notMatch(line, 'secret-payload')
  const logged = JSON.parse(line ?? '{}').req as { url: string, userAgent: string }
  t.equal(logged.url.length, 256)
  t.equal(logged.userAgent, `${'u'.repeat(255)}…`)
  t.ok((line ?? '').length < 800, `${(line ?? '').length} characters for 16 KB given`)
})

t.test('the level comes from the argument', async (t) => {
  t.equal(loggerOptions('warn', 'eg-test').level, 'warn')
  const chunks: string[] = []
  const log = pino(loggerOptions('warn', 'eg-test'), { write: (chunk: string) => { chunks.push(chunk) } })
  log.info('dropped')
  log.warn('kept')
  t.equal(chunks.length, 1)
  t.match(chunks[0], /"msg":"kept"/)
})

t.test('redactUrl compares names as the query parser decodes them', async (t) => {
  t.equal(redactUrl('/ws/events?%74oken=abc.def.ghi'), '/ws/events?%74oken=[REDACTED]')
  t.equal(redactUrl('/ws/events?a=1&TOKEN=x#frag'), '/ws/events?a=1&TOKEN=[REDACTED]#[REDACTED]')
  t.equal(redactUrl('/ws/events?%E0%A4%A=1&token=x'), '/ws/events?%E0%A4%A=1&token=[REDACTED]', 'a malformed name does not stop redaction')
  t.equal(redactUrl('/ws/events'), '/ws/events')
})

t.test('every line names the instance, child lines too, and keeps pid and hostname', async (t) => {
  const { log, lines } = capture()
  log.info('root')
  log.child({ connectionId: 'c-1' }).warn('child')
  for (const line of lines().map((l) => JSON.parse(l))) {
    t.match(line, { serverId: 'eg-test', pid: process.pid, hostname: String }, line.msg)
  }
  t.equal(lines().length, 2)
})
