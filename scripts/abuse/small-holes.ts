import { type Check, addresses } from './check.js'
import { http, publish } from './http.js'
import { Client, RawWebSocket } from './sockets.js'
import { serviceToken, userToken } from './tokens.js'

const ANSWER_MS = 5000
const LOG_WAIT_MS = 10_000
const MAX_CONNECTIONS = 20
const UPGRADES = 60
/** Nesting that fits EVENT_MAX_DATA_BYTES (32 KiB) at two bytes a level. */
const DEPTH = 10_000

const wait = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

export const fragmentToken: Check = {
  attack: '7 token in URL fragment',
  limit: '`/ws/events#token=<JWT>`: the JWT in no log line',
  async run ({ lab }) {
    const [from] = addresses(71, 1) as [string]
    const token = userToken(`fragment-${Date.now()}`)
    const signature = token.slice(token.lastIndexOf('.') + 1)
    const leaks = lab.a.output.watch(signature)
    const raw = new RawWebSocket(lab.a.port, `/ws/events#token=${token}`, {}, from)
    await Promise.race([raw.spoke, wait(ANSWER_MS)])
    raw.destroy()
    // Logged after every line of the upgrade: once it is seen, theirs have been read.
    const marker = `/abuse-marker-fragment-${Date.now()}`
    await http(lab.a.port, { path: marker, from })
    await lab.a.output.seen(marker, LOG_WAIT_MS)
    lab.a.output.unwatch(leaks)
    const answer = raw.status !== 101
      ? `answered ${raw.status}`
      : raw.firstText?.startsWith('{"type":"connected"') === true ? 'authenticated by it' : `closed ${raw.closeFrame?.code ?? ''} ${raw.closeFrame?.reason ?? ''}`
    return { held: leaks.count === 0, observed: `${answer}; ${leaks.count} log lines hold the JWT` }
  }
}

export const cookiePost: Check = {
  attack: '7 cookie-only publish',
  limit: 'POST /events with only the `access_token` cookie (CSRF): 401',
  async run ({ lab }) {
    const [from] = addresses(72, 1) as [string]
    const answer = await http(lab.a.port, {
      method: 'POST', path: '/events', from, headers: { cookie: `access_token=${serviceToken('cookie-service')}` }, body: '{"type":"csrf.attempt"}'
    })
    return { held: answer.status === 401, observed: `answered ${answer.status}` }
  }
}

/**
 * `/metrics` without its token on the deployment (METRICS_TOKEN set), and on a production
 * instance started without METRICS_TOKEN: it must refuse to start, or refuse the scrape.
 */
export const openMetrics: Check = {
  attack: '7 metrics without token',
  limit: '/metrics without token in production: 401, or no start without METRICS_TOKEN',
  async run ({ lab }) {
    const [from] = addresses(73, 1) as [string]
    const guarded = await http(lab.a.port, { path: '/metrics', from })
    let bare: string
    let held = guarded.status === 401
    try {
      const instance = await lab.startExtra('abuse-no-metrics-token', { METRICS_TOKEN: '' })
      const open = await http(instance.port, { path: '/metrics', from })
      held &&= open.status === 401
      bare = `without METRICS_TOKEN it started and answered ${open.status}`
      await instance.stop()
    } catch (err) {
      const named = /METRICS_TOKEN/.test((err as Error).message)
      held &&= named
      bare = named ? 'without METRICS_TOKEN it refused to start' : `without METRICS_TOKEN: ${(err as Error).message.slice(0, 120)}`
    }
    return { held, observed: `with the token set: ${guarded.status}; ${bare}` }
  }
}

/** Sixty upgrades at once on an instance of its own that takes twenty sockets. */
export const connectionCap: Check = {
  attack: '7 concurrent upgrades',
  limit: `${UPGRADES} concurrent upgrades, WEBSOCKET_MAX_CONNECTIONS=${MAX_CONNECTIONS}: 1 to ${MAX_CONNECTIONS} open`,
  async run ({ lab }) {
    const instance = await lab.startExtra('abuse-capped', { WEBSOCKET_MAX_CONNECTIONS: String(MAX_CONNECTIONS) })
    const [from] = addresses(74, 1) as [string]
    const clients = Array.from({ length: UPGRADES }, (_, i) => Client.open(instance.port, userToken(`capped-${i}`), from))
    await Promise.all(clients.map(async (c) => await c.connected(ANSWER_MS)))
    // A socket refused after its `connected` frame is closed right behind it: count the survivors.
    await Promise.all(clients.map(async (c) => await Promise.race([c.closed, wait(500)])))
    const open = clients.filter((c) => c.isOpen).length
    for (const client of clients) client.close()
    await instance.stop()
    // None open would keep the cap too, but says the instance refused everyone: that is no pass.
    return { held: open >= 1 && open <= MAX_CONNECTIONS, observed: `${open} open` }
  }
}

/** Two publishers whose id and key concatenate to the same text. */
export const idempotencyCollision: Check = {
  attack: '7 idempotency collision',
  limit: '`billing` + key `2024:request:k1` vs `billing:request:2024` + `k1`: two ids',
  async run ({ lab }) {
    const first = await publish(lab.a.port, serviceToken('billing'), { type: 'billing.invoice', data: { from: 'billing' } }, { 'idempotency-key': '2024:request:k1' })
    const second = await publish(lab.a.port, serviceToken('billing:request:2024'), { type: 'billing.invoice', data: { from: 'other' } }, { 'idempotency-key': 'k1' })
    const [a, b] = [first.ids[0], second.ids[0]]
    return {
      held: first.status === 202 && second.status === 202 && a !== undefined && b !== undefined && a !== b,
      observed: `${first.status} ${a ?? ''}, ${second.status} ${b ?? ''}`
    }
  }
}

export const deepData: Check = {
  attack: '7 deeply nested data',
  limit: `data nested ${DEPTH.toLocaleString('en')} levels: 400, not 500`,
  async run ({ lab }) {
    const body = `{"type":"deep.data","data":{"a":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}}`
    const answer = await http(lab.a.port, { method: 'POST', path: '/events', headers: { authorization: `Bearer ${serviceToken('deep-service')}` }, body })
    const health = await http(lab.a.port, { path: '/ws/health' })
    return { held: answer.status === 400 && health.status === 200, observed: `answered ${answer.status}; health ${health.status}` }
  }
}
