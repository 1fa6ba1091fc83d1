import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { collecting, ConfigError, type ConfigProblem } from './config-errors.js'
import { resolveJwt } from './config-jwt.js'
import { explainInvalid } from './config-rules.js'
import { DEVELOPMENT_ORIGINS, originEntryError } from './origins.js'
import { parseClusterNodes, type RedisTarget } from './redis-target.js'
import { MAX_USER_PARTITIONS } from './partitions.js'
import { MIN_SIGNING_SECRET_LENGTH } from './wire/signing.js'

const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))

export { ConfigError, type ConfigProblem } from './config-errors.js'
export { DEV_JWT_SECRET } from './config-jwt.js'

/** Every environment variable the gateway reads. Values are strings until this schema coerces them. */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_CLUSTER_ENABLED: Type.Optional(Type.Boolean()),
  REDIS_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_TLS: Type.Boolean({ default: false }),
  REDIS_WAIT_REPLICAS: Type.Integer({ minimum: 0, default: 0 }),
  /** Unset: 16 on a cluster, 1 on one Redis. */
  REDIS_PARTITIONS: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_USER_PARTITIONS })),
  REDIS_WAIT_TIMEOUT: Type.Integer({ minimum: 1, default: 1000 }),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  ALLOWED_ORIGINS: Type.Optional(Type.String()),
  WEBSOCKET_MAX_CONNECTIONS: Type.Integer({ minimum: 1, default: 10000 }),
  MAX_CONNECTIONS_PER_USER: Type.Integer({ minimum: 1, default: 10 }),
  WEBSOCKET_AUTH_TIMEOUT: Type.Integer({ minimum: 10, default: 10_000 }),
  WEBSOCKET_MAX_UNAUTHENTICATED: Type.Integer({ minimum: 1, default: 1000 }),
  WEBSOCKET_MAX_UNAUTHENTICATED_PER_IP: Type.Integer({ minimum: 1, default: 10 }),
  WEBSOCKET_MAX_SUBSCRIPTIONS: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
  WEBSOCKET_HEARTBEAT_INTERVAL: Type.Integer({ minimum: 10, default: 30000 }),
  WEBSOCKET_CLEANUP_INTERVAL: Type.Integer({ minimum: 10, default: 60_000 }),
  WEBSOCKET_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  WEBSOCKET_MAX_PAYLOAD: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 64 * 1024 }),
  WEBSOCKET_MAX_PATTERN_LENGTH: Type.Integer({ minimum: 1, maximum: 128, default: 128 }),
  WEBSOCKET_MESSAGE_BURST: Type.Integer({ minimum: 1, default: 100 }),
  WEBSOCKET_MESSAGE_RATE: Type.Number({ exclusiveMinimum: 0, default: 20 }),
  WEBSOCKET_MESSAGE_ABUSE_LIMIT: Type.Integer({ minimum: 1, default: 50 }),
  RATE_LIMIT_UPGRADES: Type.Integer({ minimum: 1, default: 120 }),
  RATE_LIMIT_PUBLISH: Type.Integer({ minimum: 1, default: 6000 }),
  AUTH_FAILURE_LIMIT: Type.Integer({ minimum: 1, default: 20 }),
  AUTH_FAILURE_WINDOW: Type.Integer({ minimum: 100, default: 60_000 }),
  AUTH_FAILURE_COOLDOWN: Type.Integer({ minimum: 100, default: 300_000 }),
  TICKET_TTL: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
  TOKEN_EXPIRY_WARNING: Type.Integer({ minimum: 0, default: 60_000 }),
  REVOCATION_TTL: Type.Integer({ minimum: 1000, default: 86_400_000 }),
  EVENT_MAX_DATA_BYTES: Type.Integer({ minimum: 2, maximum: 1024 * 1024, default: 32 * 1024 }),
  SECURITY_EVENTS_PER_SECOND: Type.Number({ exclusiveMinimum: 0, default: 20 }),
  AUDIT_REPEAT_WINDOW: Type.Integer({ minimum: 100, default: 10_000 }),
  AUDIT_REPEAT_BURST: Type.Integer({ minimum: 1, default: 5 }),
  ROOM_MAX_MEMBERS: Type.Integer({ minimum: 1, default: 1000 }),
  ROOM_MAX_JOINED: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  ROOM_PUBLISH_LIMIT: Type.Integer({ minimum: 1, default: 600 }),
  HISTORY_MAX_EVENTS: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 10_000 }),
  HISTORY_MAX_AGE: Type.Integer({ minimum: 1000, default: 3_600_000 }),
  /** Unset: WEBSOCKET_MAX_BUFFERED_BYTES, which it may not exceed. */
  RESUME_MAX_BYTES: Type.Optional(Type.Integer({ minimum: 1024 })),
  RESUME_CONCURRENCY: Type.Integer({ minimum: 1, default: 8 }),
  RESUME_CONCURRENCY_PER_USER: Type.Integer({ minimum: 1, default: 2 }),
  IDEMPOTENCY_TTL: Type.Integer({ minimum: 1000, default: 600_000 }),
  HEALTH_CANARY_INTERVAL: Type.Integer({ minimum: 50, default: 5000 }),
  SHUTDOWN_TIMEOUT: Type.Integer({ minimum: 100, default: 10_000 }),
  HTTP_REQUEST_TIMEOUT: Type.Integer({ minimum: 100, default: 30_000 }),
  HTTP_IDLE_TIMEOUT: Type.Integer({ minimum: 100, default: 30_000 }),
  HTTP_MAX_CONNECTIONS: Type.Optional(Type.Integer({ minimum: 1 })),
  TLS_CERT: Type.Optional(Type.String({ minLength: 1 })),
  TLS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  SERVER_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
  MESSAGE_SIGNING_SECRET: Type.Optional(Type.String({ minLength: MIN_SIGNING_SECRET_LENGTH })),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, pattern: '^[\\x21-\\x7e]+$' })),
  METRICS_PUBLIC: Type.Boolean({ default: false }),
  LOG_LEVEL: Type.Optional(LogLevel)
})
export type Env = Static<typeof EnvSchema>

/** REDIS_PARTITIONS on a cluster when unset. */
export const DEFAULT_CLUSTER_PARTITIONS = 16

export function loadConfig (env: Record<string, string | undefined> = process.env) {
  const { values, problems } = parseEnv(env)
  const production = values.NODE_ENV === 'production'
  return collecting(problems, (check) => ({
    nodeEnv: values.NODE_ENV,
    port: values.PORT,
    host: values.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    redis: check(() => resolveRedis(values)),
    /** Replicas that must confirm a publish before it is answered 202 (0: the master's word). */
    partitions: check(() => resolvePartitions(values)),
    durability: { replicas: values.REDIS_WAIT_REPLICAS, timeoutMs: values.REDIS_WAIT_TIMEOUT },
    jwt: check(() => resolveJwt(values)),
    allowedOrigins: check(() => resolveOrigins(values)),
    maxConnections: values.WEBSOCKET_MAX_CONNECTIONS,
    maxConnectionsPerUser: values.MAX_CONNECTIONS_PER_USER,
    /** Sockets opened without a credential, until they send `authenticate`. */
    pending: {
      timeoutMs: values.WEBSOCKET_AUTH_TIMEOUT,
      perInstance: values.WEBSOCKET_MAX_UNAUTHENTICATED,
      perAddress: values.WEBSOCKET_MAX_UNAUTHENTICATED_PER_IP
    },
    maxSubscriptions: values.WEBSOCKET_MAX_SUBSCRIPTIONS,
    maxPayloadBytes: values.WEBSOCKET_MAX_PAYLOAD,
    maxPatternLength: values.WEBSOCKET_MAX_PATTERN_LENGTH,
    heartbeatIntervalMs: values.WEBSOCKET_HEARTBEAT_INTERVAL,
    cleanupIntervalMs: values.WEBSOCKET_CLEANUP_INTERVAL,
    maxBufferedBytes: values.WEBSOCKET_MAX_BUFFERED_BYTES,
    messages: {
      burst: values.WEBSOCKET_MESSAGE_BURST,
      perSecond: values.WEBSOCKET_MESSAGE_RATE,
      abuseLimit: values.WEBSOCKET_MESSAGE_ABUSE_LIMIT
    },
    rateLimits: {
      upgradesPerMinute: values.RATE_LIMIT_UPGRADES,
      publishPerMinute: values.RATE_LIMIT_PUBLISH
    },
    authFailures: {
      limit: values.AUTH_FAILURE_LIMIT,
      windowMs: values.AUTH_FAILURE_WINDOW,
      cooldownMs: values.AUTH_FAILURE_COOLDOWN
    },
    ticketTtlMs: values.TICKET_TTL,
    tokenExpiryWarningMs: values.TOKEN_EXPIRY_WARNING,
    revocationTtlMs: values.REVOCATION_TTL,
    maxDataBytes: values.EVENT_MAX_DATA_BYTES,
    rooms: {
      maxMembers: values.ROOM_MAX_MEMBERS,
      maxJoined: values.ROOM_MAX_JOINED,
      perUserPerMinute: values.ROOM_PUBLISH_LIMIT,
      /** A member's slot outlives two heartbeats; each heartbeat refreshes those of open sockets. */
      slotTtlMs: 2 * values.WEBSOCKET_HEARTBEAT_INTERVAL
    },
    securityEventsPerSecond: values.SECURITY_EVENTS_PER_SECOND,
    auditRepeats: { windowMs: values.AUDIT_REPEAT_WINDOW, burst: values.AUDIT_REPEAT_BURST },
    retention: { maxEvents: values.HISTORY_MAX_EVENTS, maxAgeMs: values.HISTORY_MAX_AGE },
    resume: check(() => resolveResume(values)),
    idempotencyTtlMs: values.IDEMPOTENCY_TTL,
    canaryIntervalMs: values.HEALTH_CANARY_INTERVAL,
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT,
    http: {
      requestTimeoutMs: values.HTTP_REQUEST_TIMEOUT,
      idleTimeoutMs: values.HTTP_IDLE_TIMEOUT,
      maxConnections: check(() => resolveMaxConnections(values))
    },
    tls: check(() => resolveTls(values)),
    trustProxy: check(() => resolveTrustProxy(values.TRUST_PROXY)),
    serverId: values.SERVER_ID ?? `eg-${randomBytes(4).toString('hex')}`,
    metricsToken: check(() => resolveMetricsToken(values)),
    signingSecret: values.MESSAGE_SIGNING_SECRET,
    logLevel: values.LOG_LEVEL ?? (values.NODE_ENV === 'test' ? 'silent' : 'info')
  }))
}
export type Config = ReturnType<typeof loadConfig>

/**
 * The schema's values, and what it refused. A refused variable is left out of the values (its
 * default stands in), so the checks across variables still run and report theirs too.
 */
function parseEnv (env: Record<string, string | undefined>): { values: Env, problems: ConfigProblem[] } {
  const picked: Record<string, unknown> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value.trim() !== '') picked[key] = value.trim()
  }
  const problems: ConfigProblem[] = []
  for (const error of Value.Errors(EnvSchema, Value.Convert(EnvSchema, Value.Default(EnvSchema, { ...picked })))) {
    const variable = error.path.replace(/^\//, '').split('/')[0] ?? ''
    if (problems.some((problem) => problem.variable === (variable === '' ? 'environment' : variable))) continue
    const schema = (EnvSchema.properties as Record<string, TSchema | undefined>)[variable]
    problems.push({ variable: variable === '' ? 'environment' : variable, message: explainInvalid(variable, schema, picked[variable]) })
    delete picked[variable]
  }
  return { values: Value.Convert(EnvSchema, Value.Default(EnvSchema, picked)) as Env, problems }
}

/** One Redis or a cluster, never both; credentials in variables only where the URL cannot hold them. */
function resolveRedis (values: Env): RedisTarget | undefined {
  const list = values.REDIS_CLUSTER_NODES
  if (list === undefined) {
    if (values.REDIS_CLUSTER_ENABLED === true) throw new ConfigError('REDIS_CLUSTER_NODES', 'is required when REDIS_CLUSTER_ENABLED=true')
    const stray = (['REDIS_USERNAME', 'REDIS_PASSWORD'] as const).find((v) => values[v] !== undefined) ?? (values.REDIS_TLS ? 'REDIS_TLS' : undefined)
    if (stray !== undefined) throw new ConfigError(stray, 'applies to REDIS_CLUSTER_NODES only; with REDIS_URL put credentials and TLS in the URL (rediss://user:password@host:port)')
    return values.REDIS_URL === undefined ? undefined : { kind: 'single', url: values.REDIS_URL }
  }
  if (values.REDIS_URL !== undefined) throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both')
  if (values.REDIS_CLUSTER_ENABLED === false) throw new ConfigError('REDIS_CLUSTER_ENABLED', 'is false but REDIS_CLUSTER_NODES is set')
  const nodes = parseClusterNodes(list)
  if (typeof nodes === 'string') throw new ConfigError('REDIS_CLUSTER_NODES', nodes)
  return { kind: 'cluster', nodes, username: values.REDIS_USERNAME, password: values.REDIS_PASSWORD, tls: values.REDIS_TLS }
}

/**
 * Partitions spread the event log over a cluster's masters: 16 give 3 to 8 masters an even
 * share. One Redis gains nothing from more than one, and the embedded bus runs one.
 */
function resolvePartitions (values: Env): number {
  if (values.REDIS_URL === undefined && values.REDIS_CLUSTER_NODES === undefined && values.REDIS_PARTITIONS !== undefined && values.REDIS_PARTITIONS > 1) {
    throw new ConfigError('REDIS_PARTITIONS', 'needs REDIS_URL or REDIS_CLUSTER_NODES: the embedded bus runs one partition')
  }
  return values.REDIS_PARTITIONS ?? (values.REDIS_CLUSTER_NODES === undefined ? 1 : DEFAULT_CLUSTER_PARTITIONS)
}

/**
 * GET /metrics tells whoever reaches it how many users are connected and what is published. A
 * production instance listens on every interface by default, so it needs a token there, unless
 * the operator says the port is reached only from a private network (METRICS_PUBLIC=true).
 */
function resolveMetricsToken (values: Env): string | undefined {
  if (values.METRICS_TOKEN !== undefined && values.METRICS_PUBLIC) {
    throw new ConfigError('METRICS_PUBLIC', 'set either METRICS_TOKEN or METRICS_PUBLIC=true, not both')
  }
  if (values.METRICS_TOKEN === undefined && !values.METRICS_PUBLIC && values.NODE_ENV === 'production') {
    throw new ConfigError('METRICS_TOKEN', 'is required when NODE_ENV=production (or set METRICS_PUBLIC=true to serve GET /metrics without a token)')
  }
  return values.METRICS_TOKEN
}

/**
 * A replay is written to the socket at once: past WEBSOCKET_MAX_BUFFERED_BYTES the socket would
 * be cut off as a slow consumer anyway, so a larger bound would only cost memory.
 */
function resolveResume (values: Env): { maxBytes: number, concurrency: number, concurrencyPerUser: number } {
  const maxBytes = values.RESUME_MAX_BYTES ?? values.WEBSOCKET_MAX_BUFFERED_BYTES
  if (maxBytes > values.WEBSOCKET_MAX_BUFFERED_BYTES) {
    throw new ConfigError('RESUME_MAX_BYTES', `must be at most WEBSOCKET_MAX_BUFFERED_BYTES (${values.WEBSOCKET_MAX_BUFFERED_BYTES})`)
  }
  return { maxBytes, concurrency: values.RESUME_CONCURRENCY, concurrencyPerUser: values.RESUME_CONCURRENCY_PER_USER }
}

/** Connections a WebSocket cap does not account for: publishers, health checks, refused upgrades. */
const HTTP_CONNECTIONS_BEYOND_SOCKETS = 1000

/** Every WebSocket holds a TCP connection: a cap at or below WEBSOCKET_MAX_CONNECTIONS would hide it. */
function resolveMaxConnections (values: Env): number {
  const sockets = values.WEBSOCKET_MAX_CONNECTIONS
  if (values.HTTP_MAX_CONNECTIONS === undefined) return sockets + HTTP_CONNECTIONS_BEYOND_SOCKETS
  if (values.HTTP_MAX_CONNECTIONS <= sockets) {
    throw new ConfigError('HTTP_MAX_CONNECTIONS', `must be above WEBSOCKET_MAX_CONNECTIONS (${sockets}): every WebSocket holds one connection (got "${values.HTTP_MAX_CONNECTIONS}")`)
  }
  return values.HTTP_MAX_CONNECTIONS
}

function resolveTls (values: Env): { cert: string, key: string } | undefined {
  if (values.TLS_CERT === undefined && values.TLS_KEY === undefined) return undefined
  if (values.TLS_CERT === undefined) throw new ConfigError('TLS_CERT', 'is required when TLS_KEY is set')
  if (values.TLS_KEY === undefined) throw new ConfigError('TLS_KEY', 'is required when TLS_CERT is set')
  return { cert: readPem('TLS_CERT', values.TLS_CERT), key: readPem('TLS_KEY', values.TLS_KEY) }
}

function readPem (variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new ConfigError(variable, `cannot read the file ${path}`)
  }
}

/**
 * `true`, or a comma list of proxy addresses and CIDR ranges. A hop count is refused: it
 * cannot tell a proxy from a client that sends its own X-Forwarded-For, and Fastify ignores it.
 */
function resolveTrustProxy (value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '')
  if (entries.some((e) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e) || /^\d+$/.test(e))) {
    throw new ConfigError('TRUST_PROXY', 'must be true, false, or a comma list of proxy addresses and CIDR ranges (not a hop count)')
  }
  return entries
}

function resolveOrigins (values: Env): string[] {
  const entries = (values.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '')
  for (const entry of entries) {
    const problem = originEntryError(entry)
    if (problem !== undefined) throw new ConfigError('ALLOWED_ORIGINS', problem)
  }
  if (entries.length === 0 && values.NODE_ENV !== 'production') return DEVELOPMENT_ORIGINS
  return entries
}
