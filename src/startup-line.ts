import type { RedisTarget } from './redis-target.js'

export interface StartupFacts {
  /** Where clients reach the gateway: `http://127.0.0.1:3000`. */
  url: string
  /** Listening on 0.0.0.0 or ::, reached at `url` from this machine. */
  everyInterface: boolean
  redis: RedisTarget | undefined
  /** Tokens are checked against the public development key. */
  developmentKey: boolean
}

/**
 * The line an operator reads at start: where to connect, which bus the instance is on, where
 * the dashboard and the API documentation are, and whether anyone can sign a token it accepts.
 * The Redis address is given without the credentials its URL may hold.
 */
export function startupLine ({ url, everyInterface, redis, developmentKey }: StartupFacts): string {
  const where = everyInterface ? `on every interface (${url} from this machine)` : `at ${url}`
  const line = `eventgate listening ${where}, on ${busWords(redis)}; dashboard ${url}/dashboard, API docs ${url}/docs`
  return developmentKey
    ? `${line}. WARNING: no JWT_SECRET or JWT_PUBLIC_KEY, tokens are checked against the public development key: anyone can sign one, never expose this instance`
    : line
}

function busWords (redis: RedisTarget | undefined): string {
  if (redis === undefined) return 'the in-memory bus (this instance alone: no other instance sees its events, and its history ends with the process)'
  if (redis.kind === 'cluster') {
    const seeds = redis.nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`)
    return `Redis Cluster (seed nodes ${seeds.join(', ')})`
  }
  return `Redis at ${hostOf(redis.url)}`
}

/** `host:port` of a Redis URL, which config has checked starts `redis://` or `rediss://`. */
function hostOf (url: string): string {
  try {
    const { protocol, host } = new URL(url)
    return protocol === 'rediss:' ? `${host} (TLS)` : host
  } catch {
    return 'the configured REDIS_URL'
  }
}
