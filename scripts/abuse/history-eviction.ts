import { Agent } from 'node:http'
import { HISTORY_KEY } from '../../src/bus/redis-log.js'
import { type Check, addresses } from './check.js'
import type { Lab } from './lab.js'
import { http, publish } from './http.js'
import { Client } from './sockets.js'
import { forgedToken, serviceToken, userToken } from './tokens.js'

const USER = 'keeper'
const BATCH = 100
const CONCURRENCY = 48
/** Sources of the flood, in turn: few enough failures each that none is blocked. */
const SOURCES = 1000
/** Requests each kept-alive connection carries before its worker moves to the next source. */
const PER_SOURCE = 15
const USER_AGENT = `flood/1.0 ${'x'.repeat(8000)}`
const REDIS_BOUND_BYTES = 4 * 1024 * 1024
const LOG_BOUND_BYTES = 1024
const RESUME_MS = 15_000

/** What the user had retained before the flood: the id to resume after, and how many events follow it. */
const kept = { since: '', count: 0 }

/** The newest entry of the history stream. */
async function lastEntry (lab: Lab): Promise<string> {
  const [newest] = await lab.redis.xrevrange(HISTORY_KEY, '+', '-', 'COUNT', 1)
  return newest?.[0] ?? '0-0'
}

/** Security events stored in the history after `since`: what strangers made the gateway write there. */
async function auditStored (lab: Lab, since: string): Promise<number> {
  const entries = await lab.redis.xrange(HISTORY_KEY, `(${since}`, '+')
  return entries.filter(([, fields]) => fields.some((field) => field.includes('"type":"security.'))).length
}

/**
 * A user's events are in the history; then strangers flood both instances with forged tokens
 * and 8 KB user agents, publishes and upgrades, from a thousand addresses. Their refusals must
 * not push the user's events out of the history, nor grow Redis or the logs per request.
 */
export const historyEviction: Check = {
  attack: '4 history eviction',
  limit: `user's events all resumable (not truncated), none of the refusals stored in the history; Redis < ${REDIS_BOUND_BYTES / 1024 / 1024} MiB, log < ${LOG_BOUND_BYTES} B per refused request`,
  async prepare ({ lab, sizes }) {
    const token = serviceToken('account-service')
    const first = await publish(lab.a.port, token, { type: 'account.marker', userId: USER })
    if (first.status !== 202) throw new Error(`publishing the user's events: ${first.status} ${first.body.slice(0, 200)}`)
    kept.since = first.ids[0] as string
    for (let sent = 0; sent < sizes.keptEvents; sent += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, sizes.keptEvents - sent) }, (_, i) => ({ type: 'account.activity', userId: USER, data: { n: sent + i } }))
      const { status, body } = await publish(lab.a.port, token, { events })
      if (status !== 202) throw new Error(`publishing the user's events: ${status} ${body.slice(0, 200)}`)
    }
    kept.count = sizes.keptEvents
  },
  async run ({ lab, sizes, log }) {
    const redis0 = await lab.redisMemory()
    const before = await lastEntry(lab)
    const log0 = lab.a.output.bytes + lab.b.output.bytes
    const sources = addresses(4, SOURCES)
    const forged = forgedToken('stranger')
    const statuses = new Map<number, number>()
    const agents: Agent[] = []
    const end = performance.now() + sizes.floodMs
    let requests = 0
    const headers = { authorization: `Bearer ${forged}`, 'user-agent': USER_AGENT }
    const upgrade = { ...headers, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, worker) => {
      const port = worker % 2 === 0 ? lab.a.port : lab.b.port
      for (let k = 0; performance.now() < end; k++) {
        const from = sources[(worker + CONCURRENCY * Math.floor(k / PER_SOURCE)) % SOURCES] as string
        // One kept-alive connection per source, as a client would keep one per host.
        if (k % PER_SOURCE === 0) agents[worker]?.destroy()
        const agent = k % PER_SOURCE === 0 ? (agents[worker] = new Agent({ keepAlive: true, maxSockets: 1, localAddress: from })) : agents[worker]
        const answer = ++requests % 4 === 0
          ? await http(port, { path: '/ws/events', from, headers: upgrade, ...(agent === undefined ? {} : { agent }) })
          : await http(port, { method: 'POST', path: '/events', from, headers, body: '{"type":"account.activity","userId":"keeper"}', ...(agent === undefined ? {} : { agent }) })
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      }
    }))
    for (const agent of agents) agent.destroy()
    const logBytes = lab.a.output.bytes + lab.b.output.bytes - log0
    const redisGrowth = await lab.redisMemory() - redis0
    const stored = await auditStored(lab, before)
    log(`flood: ${requests} requests in ${sizes.floodMs / 1000} s, answers ${[...statuses].map(([s, n]) => `${n}×${s}`).join(', ')}`)

    const client = Client.open(lab.b.port, userToken(USER))
    let replayed = 0
    let truncated = true
    let received = 0
    if (await client.connected(5000)) {
      const reply = await client.request('subscribe', { eventTypes: ['account.*'], since: kept.since }, RESUME_MS)
      replayed = Number(reply?.payload.replayed ?? 0)
      truncated = reply?.payload.truncated !== false
      // Only what the reply announced is waited for: a truncated history announces less.
      while (received < Math.min(replayed, kept.count) && await client.next((f) => f.type === 'event', RESUME_MS) !== undefined) received++
    }
    client.close()
    const perRequest = logBytes / Math.max(1, requests)
    return {
      held: received === kept.count && replayed === kept.count && !truncated && stored === 0 && redisGrowth < REDIS_BOUND_BYTES && perRequest < LOG_BOUND_BYTES,
      observed: `${requests} requests, ${stored} audit events stored in the history; resumed ${received}/${kept.count} (replayed ${replayed}, truncated ${String(truncated)}); ` +
        `Redis ${redisGrowth >= 0 ? '+' : ''}${(redisGrowth / 1024 / 1024).toFixed(1)} MiB; log ${perRequest.toFixed(0)} B/request`
    }
  }
}
