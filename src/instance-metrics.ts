import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from '@prometheus-io/client'
import type { Bus } from './bus/bus.js'
import type { Canary } from './canary.js'
import type { AuthenticationVia, AuthFailure } from './credentials.js'
import { namespaceOf } from './events.js'
import { SIGNATURE_REFUSALS, type SignatureRefusal } from './message-signing.js'
import type { Hub } from './hub.js'
import { RESUME_OUTCOMES, type ResumeOutcome } from './resume.js'
import type { SecurityEventType } from './security.js'

/** What the gauges and mirrored counters read when Prometheus scrapes. */
export interface MetricSources {
  serverId: string
  bus: Pick<Bus, 'kind' | 'connected'>
  hub: Pick<Hub, 'size' | 'adminCount' | 'slowConsumerCloses' | 'stats'>
  canary: Pick<Canary, 'healthy' | 'lastRoundTripMs'>
  /** Client frames refused `RATE_LIMITED`. */
  refusedFrames: () => number
  /** Authentications whose revocations could not be read. */
  uncheckedRevocations: () => number
  /** `subscribe` requests with `since` answered so far, by outcome. */
  resumes: () => Readonly<Record<ResumeOutcome, number>>
  /** Client frames refused for their signature, by why; undefined without MESSAGE_SIGNING_SECRET. */
  signatureRefusals?: (() => Readonly<Record<SignatureRefusal, number>>) | undefined
  /** Whether the Redis command connection is ready; undefined on the embedded default. */
  redisReady: (() => boolean) | undefined
}

/**
 * Distinct values one label may take; the rest are counted under `_other` (never an event
 * namespace: a segment cannot start with `_`). Event types come from publishers, so without a
 * cap one publisher could create series without bound.
 */
export const MAX_LABEL_VALUES = 50
const OTHER = '_other'

/**
 * Delivery latency buckets, in seconds. Event timestamps have whole milliseconds, so 1 ms is
 * the finest step; the upper ones catch events refilled from the history after an outage.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * Authentication latency buckets, in seconds: fine below the 100 ms the plan aims at (a JWT
 * check takes well under a millisecond, a ticket or revocation read one Redis round trip), coarse
 * above it, where only how far past the target matters.
 */
const AUTHENTICATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5]

/** The `reason` of a successful authentication, as the audit's `security.auth.succeeded` says it. */
const VALID_TOKEN = 'valid_token'

/**
 * Prometheus metrics for one instance, in a registry of its own so apps built in one process
 * never share series. Nothing here runs per socket: delivery latency is observed once per
 * event after the hub has written it to every socket, and the hub's figures (connections,
 * deliveries, slow consumers) are read when Prometheus scrapes.
 */
export class InstanceMetrics {
  /** This instance's series and the process's, for GET /metrics. */
  readonly registry: Registry
  private readonly publishedEvents: Counter<'namespace'>
  private readonly latency: Histogram
  private readonly securityEvents: Counter<'type'>
  private readonly authFailures: Counter<'reason'>
  private readonly limits: Counter<'reason'>
  private readonly httpRateLimited: Counter<'route'>
  private readonly authentications: Counter<'via' | 'outcome' | 'reason'>
  /** One per way in, bound once: an authentication observes without building labels. */
  private readonly authenticationSeconds: Record<AuthenticationVia, { observe: (seconds: number) => void }>
  private readonly namespace = capped()
  private readonly authReason = capped()
  private readonly limitReason = capped()

  constructor (sources: MetricSources) {
    const own = new Registry()
    figures(own, sources)
    const registers = [own]
    this.publishedEvents = new Counter({ name: 'eventgate_events_published_total', help: `Events accepted for publishing by this instance, by namespace (the first segment of the type; past ${MAX_LABEL_VALUES} namespaces, ${OTHER})`, labelNames: ['namespace'], registers })
    this.latency = new Histogram({ name: 'eventgate_delivery_latency_seconds', help: 'From an event\'s publish timestamp until this instance handed it to its sockets; once per event', buckets: LATENCY_BUCKETS, registers })
    this.securityEvents = new Counter({ name: 'eventgate_security_events_total', help: 'Audit records, by security event type (suppressed ones included)', labelNames: ['type'], registers })
    this.authFailures = new Counter({ name: 'eventgate_auth_failures_total', help: 'Failed authentications, by reason', labelNames: ['reason'], registers })
    this.limits = new Counter({ name: 'eventgate_limits_exceeded_total', help: 'Limits hit, by reason (upgrades, publishing, auth_failures, message_rate, too_many_connections, server_full)', labelNames: ['reason'], registers })
    this.httpRateLimited = new Counter({ name: 'eventgate_http_rate_limited_total', help: 'HTTP 429 responses, by route (publishing and upgrade limits, blocked addresses)', labelNames: ['route'], registers })
    this.authentications = new Counter({ name: 'eventgate_authentications_total', help: 'Credentials verified, by way in (http, upgrade, reauthenticate), outcome (success, failure) and reason (valid_token, or the refusal)', labelNames: ['via', 'outcome', 'reason'], registers })
    const seconds = new Histogram({ name: 'eventgate_authentication_seconds', help: 'Time to verify a credential (signature, claims, ticket, revocations), by way in', labelNames: ['via'], buckets: AUTHENTICATION_BUCKETS, registers })
    this.authenticationSeconds = { http: seconds.labels('http'), upgrade: seconds.labels('upgrade'), reauthenticate: seconds.labels('reauthenticate') }
    // Last: merging copies the metrics registered so far.
    this.registry = Registry.merge([processMetrics(), own])
  }

  /** An event of `type` was accepted for publishing. */
  published (type: string): void {
    this.publishedEvents.inc({ namespace: this.namespace(namespaceOf(type)) })
  }

  /** The hub handed an event published at `timestamp` (ISO) to this instance's sockets. */
  delivered (timestamp: string): void {
    // Instances' clocks may differ by a little: a negative figure is skew, not time travel.
    this.latency.observe(Math.max(0, Date.now() - Date.parse(timestamp)) / 1000)
  }

  /** An audit record, held back by the repeat throttle or not. */
  reported (type: SecurityEventType, reason: string): void {
    this.securityEvents.inc({ type })
    if (type === 'security.auth.failed') this.authFailures.inc({ reason: this.authReason(reason) })
    else if (type === 'security.rate_limit.exceeded') this.limits.inc({ reason: this.limitReason(reason) })
  }

  /**
   * A credential was verified through `via` in `seconds`; `refusal` is why it was refused, if it
   * was. Reasons are the closed set of AuthFailure, so the labels stay bounded.
   */
  authenticated (via: AuthenticationVia, refusal: AuthFailure | undefined, seconds: number): void {
    this.authenticationSeconds[via].observe(seconds)
    this.authentications.inc({ via, outcome: refusal === undefined ? 'success' : 'failure', reason: refusal ?? VALID_TOKEN })
  }

  /** An HTTP request was answered 429; `route` is undefined when no route matched. */
  rateLimited (route: string | undefined): void {
    this.httpRateLimited.inc({ route: route ?? OTHER })
  }
}

/** The gauges, and the counters that mirror the hub's own tallies at each scrape. */
function figures (registry: Registry, { serverId, bus, hub, canary, refusedFrames, uncheckedRevocations, resumes, signatureRefusals, redisReady }: MetricSources): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    registry.registerMetric(new Gauge({ name, help, registers: [], collect () { this.set(read()) } }))
  }
  const tally = (name: string, help: string, read: () => number): void => {
    registry.registerMetric(new Counter({ name, help, registers: [], collect () { this.reset(); this.inc(read()) } }))
  }
  /** A counter per value of one label, every value from the first scrape on: a ratio over them has a denominator. */
  const tallies = <V extends string>(name: string, help: string, label: string, values: readonly V[], read: () => Readonly<Record<V, number>>): void => {
    registry.registerMetric(new Counter({
      name,
      help,
      labelNames: [label],
      registers: [],
      collect () {
        this.reset()
        const now = read()
        for (const value of values) this.inc({ [label]: value }, now[value])
      }
    }))
  }
  registry.registerMetric(new Gauge({
    name: 'eventgate_instance_info',
    help: 'This instance: its server id and bus (always 1)',
    labelNames: ['server_id', 'bus'],
    registers: [],
    collect () { this.set({ server_id: serverId, bus: bus.kind }, 1) }
  }))
  registry.registerMetric(new Gauge({
    name: 'eventgate_connections',
    help: 'Open WebSocket connections on this instance, by stream (user: /ws/events, admin: /ws/admin)',
    labelNames: ['stream'],
    registers: [],
    collect () {
      this.set({ stream: 'user' }, hub.size - hub.adminCount)
      this.set({ stream: 'admin' }, hub.adminCount)
    }
  }))
  tallies('eventgate_resumes_total', 'subscribe requests with since answered, by outcome: resumed (nothing lost), truncated (events after since may be lost), unavailable (the history could not be read)', 'outcome', RESUME_OUTCOMES, resumes)
  gauge('eventgate_users', 'Distinct users with a connection on this instance', () => hub.stats().users)
  gauge('eventgate_subscriptions', 'Patterns held by this instance\'s connections', () => hub.stats().subscriptions)
  tally('eventgate_events_received_total', 'Events this instance received from the bus', () => hub.stats().eventsReceived)
  tally('eventgate_deliveries_total', 'Event frames written to sockets, live and replayed', () => hub.stats().deliveries)
  tally('eventgate_slow_consumer_closes_total', 'Sockets closed 4009 slow_consumer', () => hub.slowConsumerCloses)
  tally('eventgate_ws_rate_limited_frames_total', 'Client frames refused RATE_LIMITED', refusedFrames)
  tally('eventgate_revocations_unchecked_total', 'Authentications whose revocations could not be read (store unreachable): users accepted, admin and publishing tokens refused', uncheckedRevocations)
  gauge('eventgate_bus_connected', 'Whether events can be published and received (0 while Redis is unreachable or missed events are refilled)', () => Number(bus.connected))
  gauge('eventgate_canary_healthy', 'Whether the last canary came back through the bus', () => Number(canary.healthy))
  gauge('eventgate_bus_round_trip_seconds', 'The last canary\'s publish-to-receive time (NaN before the first)', () => (canary.lastRoundTripMs ?? Number.NaN) / 1000)
  if (signatureRefusals !== undefined) {
    tallies('eventgate_signature_refusals_total', 'Client frames refused under MESSAGE_SIGNING_SECRET, by reason: unsigned, malformed, bad_signature (INVALID_SIGNATURE), stale, replayed (REPLAYED)', 'reason', SIGNATURE_REFUSALS, signatureRefusals)
  }
  if (redisReady !== undefined) gauge('eventgate_redis_connected', 'Whether the Redis command connection is ready', () => Number(redisReady()))
}

let processRegistry: Registry | undefined

/**
 * Node's process metrics (CPU, memory, event loop lag, GC) belong to the process, not to an app:
 * collected once however many apps it builds, since their monitors cannot be stopped.
 */
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** A label value as is, for the first MAX_LABEL_VALUES distinct ones; `_other` after them. */
function capped (): (value: string) => string {
  const seen = new Set<string>()
  return (value) => {
    if (seen.has(value)) return value
    if (seen.size >= MAX_LABEL_VALUES) return OTHER
    seen.add(value)
    return value
  }
}
