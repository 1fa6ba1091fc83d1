import t from 'tap'
import { Hub } from '../../src/hub.js'
import { InstanceMetrics, MAX_LABEL_VALUES, type MetricSources } from '../../src/instance-metrics.js'

function sources (overrides: Partial<MetricSources> = {}): MetricSources {
  return {
    serverId: 'eg-metrics',
    bus: { kind: 'memory', connected: true },
    hub: new Hub(),
    canary: { healthy: true, lastRoundTripMs: 12 },
    refusedFrames: () => 0,
    uncheckedRevocations: () => 0,
    resumes: () => ({ resumed: 0, truncated: 0, unavailable: 0 }),
    redisReady: undefined,
    ...overrides
  }
}

/** The samples by series as Prometheus prints them (`name{label="v"}`). */
async function scrape (metrics: InstanceMetrics): Promise<Map<string, number>> {
  const samples = new Map<string, number>()
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (match !== null) samples.set(match[1] as string, Number(match[2]))
  }
  return samples
}

t.test('figures are read when scraped, and tallies mirror their source', async (t) => {
  let refused = 3
  const metrics = new InstanceMetrics(sources({ refusedFrames: () => refused }))
  const first = await scrape(metrics)
  t.equal(first.get('eventgate_instance_info{server_id="eg-metrics",bus="memory"}'), 1)
  t.equal(first.get('eventgate_connections{stream="user"}'), 0)
  t.equal(first.get('eventgate_bus_round_trip_seconds'), 0.012)
  t.equal(first.get('eventgate_ws_rate_limited_frames_total'), 3)
  t.notOk(first.has('eventgate_redis_connected'), 'no Redis, no Redis gauge')
  t.ok(first.has('process_cpu_user_seconds_total'), 'the process\'s metrics too')
  refused = 5
  t.equal((await scrape(metrics)).get('eventgate_ws_rate_limited_frames_total'), 5)
  const withRedis = new InstanceMetrics(sources({ redisReady: () => false }))
  t.equal((await scrape(withRedis)).get('eventgate_redis_connected'), 0)
})

t.test('labels from publishers and reports are capped; the rest count under _other', async (t) => {
  const metrics = new InstanceMetrics(sources())
  for (let n = 0; n < MAX_LABEL_VALUES + 10; n++) metrics.published(`ns${n}.created`)
  metrics.published('ns0.updated')
  for (let n = 0; n < MAX_LABEL_VALUES + 2; n++) metrics.reported('security.auth.failed', `reason_${n}`)
  metrics.reported('security.rate_limit.exceeded', 'server_full')
  const samples = await scrape(metrics)
  t.equal(samples.get('eventgate_events_published_total{namespace="ns0"}'), 2)
  t.equal(samples.get(`eventgate_events_published_total{namespace="ns${MAX_LABEL_VALUES - 1}"}`), 1)
  t.notOk(samples.has(`eventgate_events_published_total{namespace="ns${MAX_LABEL_VALUES}"}`))
  t.equal(samples.get('eventgate_events_published_total{namespace="_other"}'), 10)
  t.equal(samples.get('eventgate_auth_failures_total{reason="_other"}'), 2)
  t.equal(samples.get('eventgate_limits_exceeded_total{reason="server_full"}'), 1, 'each label has its own cap')
  t.equal(samples.get('eventgate_security_events_total{type="security.auth.failed"}'), MAX_LABEL_VALUES + 2)
})

t.test('a timestamp ahead of this clock is skew: observed as no latency', async (t) => {
  const metrics = new InstanceMetrics(sources())
  metrics.delivered(new Date(Date.now() + 5000).toISOString())
  const samples = await scrape(metrics)
  t.equal(samples.get('eventgate_delivery_latency_seconds_bucket{le="0.001"}'), 1)
  t.equal(samples.get('eventgate_delivery_latency_seconds_sum'), 0)
})

t.test('429 answers count by route; each instance has series of its own', async (t) => {
  const one = new InstanceMetrics(sources())
  const other = new InstanceMetrics(sources())
  one.rateLimited('/events')
  one.rateLimited(undefined)
  const samples = await scrape(one)
  t.equal(samples.get('eventgate_http_rate_limited_total{route="/events"}'), 1)
  t.equal(samples.get('eventgate_http_rate_limited_total{route="_other"}'), 1, 'no route matched')
  t.notOk((await scrape(other)).has('eventgate_http_rate_limited_total{route="/events"}'))
})

t.test('authentications are timed by way in and counted by outcome and reason; resumes by outcome, zeros included', async (t) => {
  let resumed = 0
  const metrics = new InstanceMetrics(sources({ resumes: () => ({ resumed, truncated: 1, unavailable: 0 }) }))
  metrics.authenticated('upgrade', undefined, 0.004)
  metrics.authenticated('http', 'token_expired', 0.2)
  const first = await scrape(metrics)
  t.equal(first.get('eventgate_authentication_seconds_bucket{le="0.005",via="upgrade"}'), 1)
  t.equal(first.get('eventgate_authentication_seconds_bucket{le="0.1",via="http"}'), 0, 'past the target')
  t.equal(first.get('eventgate_authentication_seconds_bucket{le="0.25",via="http"}'), 1)
  t.equal(first.get('eventgate_authentications_total{via="upgrade",outcome="success",reason="valid_token"}'), 1)
  t.equal(first.get('eventgate_authentications_total{via="http",outcome="failure",reason="token_expired"}'), 1)
  t.equal(first.get('eventgate_resumes_total{outcome="resumed"}'), 0)
  t.equal(first.get('eventgate_resumes_total{outcome="unavailable"}'), 0)
  resumed = 2
  t.equal((await scrape(metrics)).get('eventgate_resumes_total{outcome="resumed"}'), 2)
})
