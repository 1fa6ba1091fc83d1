import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config.js'

const SECRET = 'a-secret-that-is-long-enough-for-hs256-0123456789'
const METRICS_TOKEN = 'a-metrics-token-0123456789'

function publicPem (type: 'rsa' | 'ec-256' | 'ec-384' | 'ed25519'): string {
  const { publicKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: type === 'ec-256' ? 'P-256' : 'P-384' })
  return publicKey.export({ type: 'spki', format: 'pem' }).toString()
}

/** What `loadConfig(env)` throws, or undefined when it does not throw. */
function thrown (env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env)
  } catch (err) {
    return err as ConfigError
  }
  return undefined
}

t.test('defaults', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    nodeEnv: 'development',
    port: 3000,
    host: '127.0.0.1',
    redis: undefined,
    jwt: { key: DEV_JWT_SECRET, algorithm: 'HS256', development: true },
    allowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'],
    maxConnections: 10000,
    maxConnectionsPerUser: 10,
    maxSubscriptions: 100,
    heartbeatIntervalMs: 30000,
    logLevel: 'info'
  })
  t.match(config.serverId, /^eg-[0-9a-f]{8}$/)
  t.equal(loadConfig({ NODE_ENV: 'test' }).logLevel, 'silent')
})

t.test('values are read, coerced and trimmed', async (t) => {
  const config = loadConfig({
    PORT: ' 8080 ',
    HOST: '::',
    REDIS_URL: 'rediss://cache:6380',
    JWT_SECRET: SECRET,
    JWT_ISSUER: 'auth',
    JWT_AUDIENCE: 'gateway',
    ALLOWED_ORIGINS: 'https://app.example.com, https://*.example.org',
    WEBSOCKET_MAX_SUBSCRIPTIONS: '5',
    SERVER_ID: 'node-1',
    LOG_LEVEL: 'debug',
    UNRELATED: 'ignored'
  })
  t.match(config, {
    port: 8080,
    host: '::',
    redis: { kind: 'single', url: 'rediss://cache:6380' },
    jwt: { key: SECRET, algorithm: 'HS256', development: false, issuer: 'auth', audience: 'gateway' },
    allowedOrigins: ['https://app.example.com', 'https://*.example.org'],
    maxSubscriptions: 5,
    serverId: 'node-1',
    logLevel: 'debug'
  })
  t.equal(loadConfig({ PORT: '' }).port, 3000, 'an empty value counts as unset')
})

t.test('REDIS_CLUSTER_NODES selects a cluster, with credentials and TLS of its own', async (t) => {
  t.same(loadConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b.internal:7001 ,[::1]:7002' }).redis, {
    kind: 'cluster',
    nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b.internal', port: 7001 }, { host: '::1', port: 7002 }],
    username: undefined,
    password: undefined,
    tls: false
  })
  t.match(loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_CLUSTER_ENABLED: 'true', REDIS_USERNAME: 'gateway', REDIS_PASSWORD: 'pw-0123', REDIS_TLS: 'true' }).redis, {
    kind: 'cluster', username: 'gateway', password: 'pw-0123', tls: true
  })
})

t.test('a Redis configuration that cannot be meant stops the start, naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ REDIS_CLUSTER_ENABLED: 'true' }, 'REDIS_CLUSTER_NODES', /required when REDIS_CLUSTER_ENABLED=true/],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_CLUSTER_ENABLED: 'false' }, 'REDIS_CLUSTER_ENABLED', /is false/],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://a:6379' }, 'REDIS_CLUSTER_NODES', /not both/],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'REDIS_CLUSTER_NODES', /"b" is not host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES', /"a:70000" is not host:port \(port 1 to 65535\)/],
    [{ REDIS_CLUSTER_NODES: 'a:0' }, 'REDIS_CLUSTER_NODES', /"a:0"/],
    [{ REDIS_CLUSTER_NODES: 'redis://a:7000' }, 'REDIS_CLUSTER_NODES', /not host:port/],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES', /lists no node/],
    [{ REDIS_CLUSTER_ENABLED: 'maybe' }, 'REDIS_CLUSTER_ENABLED', /"maybe"/],
    [{ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'pw-0123' }, 'REDIS_PASSWORD', /in the URL/],
    [{ REDIS_USERNAME: 'gateway' }, 'REDIS_USERNAME', /REDIS_CLUSTER_NODES only/],
    [{ REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' }, 'REDIS_TLS', /rediss:\/\//]
  ]
  for (const [env, variable, message] of cases) {
    const err = thrown(env)
    t.type(err, ConfigError, `${JSON.stringify(env)} throws a ConfigError`)
    t.equal(err?.variable, variable, `${JSON.stringify(env)} names ${variable}`)
    t.match(err?.message, message)
    t.notOk(err?.message.includes('pw-0123'), 'the password is never echoed')
  }
})

t.test('HOST default differs in production', async (t) => {
  t.equal(loadConfig({ NODE_ENV: 'development' }).host, '127.0.0.1')
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, METRICS_TOKEN }).host, '0.0.0.0')
  t.same(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, METRICS_TOKEN }).allowedOrigins, [], 'no development origins in production')
})

t.test('production serves GET /metrics with a token, or openly only when METRICS_PUBLIC=true says so', async (t) => {
  const production = { NODE_ENV: 'production', JWT_SECRET: SECRET }
  t.equal(loadConfig({ ...production, METRICS_TOKEN }).metricsToken, METRICS_TOKEN)
  t.equal(loadConfig({ ...production, METRICS_PUBLIC: 'true' }).metricsToken, undefined)
  t.equal(thrown({ ...production, METRICS_PUBLIC: 'false' })?.variable, 'METRICS_TOKEN')
  t.notOk(thrown({ ...production, METRICS_TOKEN, METRICS_PUBLIC: 'true' })?.message.includes(METRICS_TOKEN), 'the token is never echoed')
  for (const NODE_ENV of ['development', 'test']) t.equal(loadConfig({ NODE_ENV }).metricsToken, undefined, `${NODE_ENV}: open without a token`)
})

t.test('a resume replays at most what a socket may buffer', async (t) => {
  t.same(loadConfig({}).resume, { maxBytes: 1024 * 1024, concurrency: 8, concurrencyPerUser: 2 })
  t.equal(loadConfig({ WEBSOCKET_MAX_BUFFERED_BYTES: '65536' }).resume.maxBytes, 65536, 'unset, it follows WEBSOCKET_MAX_BUFFERED_BYTES')
  t.equal(loadConfig({ RESUME_MAX_BYTES: '4096' }).resume.maxBytes, 4096)
  const err = thrown({ RESUME_MAX_BYTES: '131072', WEBSOCKET_MAX_BUFFERED_BYTES: '65536' })
  t.equal(err?.variable, 'RESUME_MAX_BYTES')
  t.match(err?.message, /at most WEBSOCKET_MAX_BUFFERED_BYTES \(65536\)/)
})

t.test('each bad value stops with a ConfigError naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, string, RegExp?]> = [
    [{ PORT: 'abc' }, 'PORT', /"abc"/],
    [{ PORT: '70000' }, 'PORT', /"70000"/],
    [{ PORT: '-1' }, 'PORT'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: publicPem('ec-256') }, 'JWT_SECRET', /not both/],
    [{ JWT_PUBLIC_KEY: 'not a pem' }, 'JWT_PUBLIC_KEY', /PEM/],
    [{ JWT_PUBLIC_KEY: publicPem('ed25519') }, 'JWT_PUBLIC_KEY', /RSA, P-256 or P-384/],
    [{ ALLOWED_ORIGINS: 'https://ok.example.com,example.com' }, 'ALLOWED_ORIGINS', /"example\.com"/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ WEBSOCKET_MAX_SUBSCRIPTIONS: '0' }, 'WEBSOCKET_MAX_SUBSCRIPTIONS'],
    [{ RESUME_CONCURRENCY: '0' }, 'RESUME_CONCURRENCY'],
    [{ SERVER_ID: 'has space' }, 'SERVER_ID'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET', /required when NODE_ENV=production/],
    [{ NODE_ENV: 'production', JWT_SECRET: SECRET }, 'METRICS_TOKEN', /required when NODE_ENV=production \(or set METRICS_PUBLIC=true/],
    [{ METRICS_TOKEN, METRICS_PUBLIC: 'true' }, 'METRICS_PUBLIC', /not both/],
    [{ METRICS_PUBLIC: 'yes' }, 'METRICS_PUBLIC', /"yes"/]
  ]
  for (const [env, variable, message] of cases) {
    const err = thrown(env)
    t.type(err, ConfigError, `${JSON.stringify(env).slice(0, 60)} throws a ConfigError`)
    t.equal(err?.variable, variable, `${JSON.stringify(env).slice(0, 60)} names ${variable}`)
    t.ok(err?.message.startsWith(`${variable}: `), 'the message starts with the variable')
    if (message !== undefined) t.match(err?.message, message)
  }
})

t.test('a REDIS_URL, which may hold a password, is never echoed in an error', async (t) => {
  const err = thrown({ REDIS_URL: 'http://user:s3cret-pass@cache:6379' })
  t.equal(err?.variable, 'REDIS_URL')
  t.notMatch(err?.message, /s3cret-pass/)
})

t.test('the JWT_SECRET value never appears in an error message', async (t) => {
  const tooShort = 'hunter2-secret'
  const cases: Array<Record<string, string> & { JWT_SECRET: string }> = [
    { JWT_SECRET: tooShort },
    { JWT_SECRET: ` ${tooShort}  ` },
    { JWT_SECRET: SECRET, JWT_PUBLIC_KEY: 'x' },
    { JWT_SECRET: SECRET, PORT: 'abc' },
    { JWT_SECRET: SECRET, ALLOWED_ORIGINS: 'nope' }
  ]
  for (const env of cases) {
    const err = thrown(env)
    t.type(err, ConfigError)
    t.notOk(err?.message.includes(env.JWT_SECRET.trim()), `not in "${err?.message}"`)
    t.notOk(String(err?.stack).includes(env.JWT_SECRET.trim()), 'nor in its stack')
  }
})

t.test('a public key pins the algorithm to its type', async (t) => {
  const rsa = publicPem('rsa')
  t.match(loadConfig({ JWT_PUBLIC_KEY: rsa }).jwt, { key: rsa.trim(), algorithm: 'RS256', development: false })
  t.equal(loadConfig({ JWT_PUBLIC_KEY: publicPem('ec-256') }).jwt.algorithm, 'ES256')
  t.equal(loadConfig({ JWT_PUBLIC_KEY: publicPem('ec-384') }).jwt.algorithm, 'ES384')
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_PUBLIC_KEY: rsa, METRICS_TOKEN }).jwt.development, false)
})

t.test('\\n escapes in JWT_PUBLIC_KEY are accepted', async (t) => {
  const pem = publicPem('ec-256')
  const oneLine = pem.trim().replace(/\n/g, '\\n')
  t.notMatch(oneLine, /\n/)
  const { jwt } = loadConfig({ JWT_PUBLIC_KEY: oneLine })
  t.equal(jwt.algorithm, 'ES256')
  t.equal(jwt.key, pem.trim())
})

t.test('outside production without a key, the development key is flagged', async (t) => {
  for (const NODE_ENV of ['development', 'test']) {
    t.match(loadConfig({ NODE_ENV }).jwt, { key: DEV_JWT_SECRET, algorithm: 'HS256', development: true })
  }
  t.equal(loadConfig({ JWT_SECRET: SECRET }).jwt.development, false)
})

t.test('JWT_PUBLIC_KEY refuses a private key', async (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const error = thrown({ JWT_PUBLIC_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() })
  t.equal(error?.variable, 'JWT_PUBLIC_KEY')
  t.match(error?.message, /must be a public key, not a private key/)
})

t.test('HTTP timeouts and the connection cap: defaults, and a cap above the WebSocket cap', async (t) => {
  t.same(loadConfig({}).http, { requestTimeoutMs: 30_000, idleTimeoutMs: 30_000, maxConnections: 11_000 })
  t.equal(loadConfig({ WEBSOCKET_MAX_CONNECTIONS: '50000' }).http.maxConnections, 51_000, 'the default follows WEBSOCKET_MAX_CONNECTIONS')
  t.same(loadConfig({ HTTP_REQUEST_TIMEOUT: '5000', HTTP_IDLE_TIMEOUT: '10000', HTTP_MAX_CONNECTIONS: '20000' }).http,
    { requestTimeoutMs: 5000, idleTimeoutMs: 10_000, maxConnections: 20_000 })
  t.match(thrown({ HTTP_MAX_CONNECTIONS: '10000' }), { variable: 'HTTP_MAX_CONNECTIONS', message: /above WEBSOCKET_MAX_CONNECTIONS \(10000\)/ })
  t.match(thrown({ HTTP_REQUEST_TIMEOUT: '0' }), { variable: 'HTTP_REQUEST_TIMEOUT' }, 'a timeout cannot be switched off')
  t.match(thrown({ HTTP_IDLE_TIMEOUT: '0' }), { variable: 'HTTP_IDLE_TIMEOUT' })
})

t.test('MESSAGE_SIGNING_SECRET: at least 32 characters, never echoed, unset by default', async (t) => {
  t.equal(loadConfig({}).signingSecret, undefined)
  t.equal(loadConfig({ MESSAGE_SIGNING_SECRET: SECRET }).signingSecret, SECRET)
  const err = thrown({ MESSAGE_SIGNING_SECRET: 'short-signing-secret' })
  t.equal(err?.variable, 'MESSAGE_SIGNING_SECRET')
  t.notMatch(err?.message, /short-signing-secret/)
})
