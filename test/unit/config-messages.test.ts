import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

function problems (env: Record<string, string>): ConfigError['problems'] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('each bad value is refused with its rule in words and an example, never a pattern or a validator\'s words', async (t) => {
  const cases: Array<[Record<string, string>, string, string]> = [
    [{ NODE_ENV: 'prod' }, 'NODE_ENV', 'must be one of development, production, test (got "prod")'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', 'must be a URL with the scheme redis:// or rediss:// (TLS), e.g. redis://127.0.0.1:6379 or rediss://user:password@cache.example.com:6380'],
    [{ PORT: 'eighty' }, 'PORT', 'must be a whole number from 0 to 65535, e.g. 3000 (got "eighty")'],
    [{ AUTH_FAILURE_LIMIT: '0' }, 'AUTH_FAILURE_LIMIT', 'must be a whole number of at least 1, e.g. 20 (got "0")'],
    [{ WEBSOCKET_MESSAGE_RATE: '0' }, 'WEBSOCKET_MESSAGE_RATE', 'must be a number above 0, e.g. 20 (got "0")'],
    [{ METRICS_PUBLIC: 'yes' }, 'METRICS_PUBLIC', 'must be true or false (got "yes")'],
    [{ SERVER_ID: 'has space' }, 'SERVER_ID', 'must be 1 to 64 letters, digits, "_", "." or "-", e.g. eg-1 (got "has space")'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET', 'must be at least 32 characters, e.g. the output of `openssl rand -hex 32`'],
    [{ METRICS_TOKEN: 'has a space in it!' }, 'METRICS_TOKEN', 'must be at least 16 visible ASCII characters without spaces, e.g. the output of `openssl rand -hex 24`']
  ]
  for (const [env, variable, message] of cases) {
    t.same(problems(env), [{ variable, message }], JSON.stringify(env))
  }
})

t.test('every bad variable is reported at once, schema and cross-checks alike, one a line', async (t) => {
  const env = {
    NODE_ENV: 'prod',
    PORT: 'eighty',
    REDIS_URL: 'localhost:6379',
    LOG_LEVEL: 'verbose',
    TLS_KEY: '/nowhere/key.pem',
    TRUST_PROXY: '2'
  }
  let error: unknown
  try {
    loadConfig(env)
  } catch (err) {
    error = err
  }
  t.type(error, ConfigError)
  const { problems: found, message, variable } = error as ConfigError
  t.same(found.map((p) => p.variable), ['NODE_ENV', 'PORT', 'REDIS_URL', 'LOG_LEVEL', 'TLS_CERT', 'TRUST_PROXY'])
  t.equal(variable, 'NODE_ENV', 'the first names the error')
  t.equal(message.split('\n').length, 6, 'a line each')
  t.match(message, /^NODE_ENV: must be one of development, production, test \(got "prod"\)\nPORT: /)
})
