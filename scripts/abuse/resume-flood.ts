import { type Check, addresses, mb, pool, seconds } from './check.js'
import { publish } from './http.js'
import { Client } from './sockets.js'
import { serviceToken, userToken } from './tokens.js'

/** Under EVENT_MAX_DATA_BYTES (32 KiB); batches stay under the 1 MiB body limit. */
const EVENT_BYTES = 30_000
const BATCH = 30
const RSS_BOUND_MB = 200
const ANSWER_MS = 45_000
const USERS = ['resumer-1', 'resumer-2']
/** Ten sockets of each user: MAX_CONNECTIONS_PER_USER's default. */
const RESUMES = 20

/**
 * Tens of MiB of history addressed to someone else, then twenty sockets of two ordinary users
 * asking instance A to replay everything from the start at once. None of them may see any of
 * it: what a resume holds must follow what the resumer may see, not the history's size.
 */
export const resumeFlood: Check = {
  attack: '1 resume flood',
  healthIsLimit: true,
  limit: `${RESUMES} resumes from 0-0 over the history: instance up, RSS < ${RSS_BOUND_MB} MB, health 200, all answered`,
  async prepare ({ lab, sizes, log }) {
    const token = serviceToken('bulk-loader')
    const data = { blob: 'x'.repeat(EVENT_BYTES) }
    for (let sent = 0; sent < sizes.historyEvents; sent += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, sizes.historyEvents - sent) }, () => ({ type: 'bulk.blob', userId: 'victim', data }))
      const { status, body } = await publish(lab.a.port, token, { events })
      if (status !== 202) throw new Error(`filling the history: ${status} ${body.slice(0, 200)}`)
    }
    log(`history: ${sizes.historyEvents} events of ${EVENT_BYTES / 1000} KB for another user (${(sizes.historyEvents * EVENT_BYTES / 1024 / 1024).toFixed(0)} MiB)`)
  },
  async run ({ lab, growthMb }) {
    const target = lab.a
    const from = addresses(1, RESUMES)
    const clients = from.map((address, i) => Client.open(target.port, userToken(USERS[i % USERS.length] as string), address))
    const connected = (await Promise.all(clients.map(async (c) => await c.connected(10_000)))).filter(Boolean).length
    const t0 = performance.now()
    const answers = await pool(clients.length, clients.length, async (i) => {
      const reply = await (clients[i] as Client).request('subscribe', { eventTypes: ['*'], since: '0-0' }, ANSWER_MS)
      return reply?.type === 'subscribed' ? performance.now() - t0 : undefined
    })
    // Sockets dropped without a close frame: give an instance that is going down the time to be gone.
    if (answers.includes(undefined)) await Promise.race([target.exited, new Promise((resolve) => setTimeout(resolve, 2000))])
    const closes = new Map<string, number>()
    for (const [i, client] of clients.entries()) {
      if (answers[i] !== undefined || client.isOpen) continue
      const { code, reason } = await client.closed
      closes.set(`${code} ${reason}`.trim(), (closes.get(`${code} ${reason}`.trim()) ?? 0) + 1)
    }
    for (const client of clients) client.close()
    const answered = answers.filter((ms) => ms !== undefined)
    const growth = growthMb(target)
    const slowest = Math.max(0, ...answered)
    const held = target.alive && connected === clients.length && answered.length === clients.length && growth < RSS_BOUND_MB
    const unanswered = [...closes].map(([close, n]) => `${n}× closed ${close}`).join(', ')
    const observed = `${target.alive ? 'up' : 'instance DIED'}; ${answered.length}/${clients.length} answered (${connected} connected${unanswered === '' ? '' : `; ${unanswered}`}), ` +
      `last after ${seconds(slowest)}; RSS +${mb(growth)}`
    return { held, observed }
  }
}
