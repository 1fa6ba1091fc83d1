import { type Check, addresses } from './check.js'
import { http, publish } from './http.js'
import { Client } from './sockets.js'
import { forgedToken, serviceToken, userToken } from './tokens.js'

const USER = 'keeper'
const BATCH = 100
const CONCURRENCY = 48
/** Sources of the flood, in turn: few enough failures each that none is blocked. */
const SOURCES = 1000
const USER_AGENT = `flood/1.0 ${'x'.repeat(8000)}`
const REDIS_BOUND_BYTES = 4 * 1024 * 1024
const LOG_BOUND_BYTES = 1024
const RESUME_MS = 15_000

/** What the user had retained before the flood: the id to resume after, and how many events follow it. */
const kept = { since: '', count: 0 }

/**
 * A user's events are in the history; then strangers flood both instances with forged tokens
 * and 8 KB user agents, publishes and upgrades, from a thousand addresses. Their refusals must
 * not push the user's events out of the history, nor grow Redis or the logs per request.
 */
export const historyEviction: Check = {
  attack: '4 history eviction',
  limit: `user's events all resumable (not truncated); Redis < ${REDIS_BOUND_BYTES / 1024 / 1024} MiB, log < ${LOG_BOUND_BYTES} B per refused request`,
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
    const log0 = lab.a.output.bytes + lab.b.output.bytes
    const sources = addresses(4, SOURCES)
    const forged = forgedToken('stranger')
    const statuses = new Map<number, number>()
    const end = performance.now() + sizes.floodMs
    let requests = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const n = requests++
        const port = n % 2 === 0 ? lab.a.port : lab.b.port
        const headers = { authorization: `Bearer ${forged}`, 'user-agent': USER_AGENT }
        const answer = n % 4 === 3
          ? await http(port, { path: '/ws/events', from: sources[n % SOURCES], headers: { ...headers, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
          : await http(port, { method: 'POST', path: '/events', from: sources[n % SOURCES], headers, body: '{"type":"account.activity","userId":"keeper"}' })
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      }
    }))
    const logBytes = lab.a.output.bytes + lab.b.output.bytes - log0
    const redisGrowth = await lab.redisMemory() - redis0
    log(`flood: ${requests} requests in ${sizes.floodMs / 1000} s, answers ${[...statuses].map(([s, n]) => `${n}×${s}`).join(', ')}`)

    const client = Client.open(lab.b.port, userToken(USER))
    let replayed = 0
    let truncated = true
    let received = 0
    if (await client.connected(5000)) {
      const reply = await client.request('subscribe', { eventTypes: ['account.*'], since: kept.since }, RESUME_MS)
      replayed = Number(reply?.payload.replayed ?? 0)
      truncated = reply?.payload.truncated !== false
      while (received < kept.count && await client.next((f) => f.type === 'event', RESUME_MS) !== undefined) received++
    }
    client.close()
    const perRequest = logBytes / Math.max(1, requests)
    return {
      held: received === kept.count && replayed === kept.count && !truncated && redisGrowth < REDIS_BOUND_BYTES && perRequest < LOG_BOUND_BYTES,
      observed: `${requests} requests; resumed ${received}/${kept.count} (replayed ${replayed}, truncated ${String(truncated)}); ` +
        `Redis ${redisGrowth >= 0 ? '+' : ''}${(redisGrowth / 1024 / 1024).toFixed(1)} MiB; log ${perRequest.toFixed(0)} B/request`
    }
  }
}
