import { type Check, addresses, seconds } from './check.js'
import { http, publish } from './http.js'
import type { Instance } from './instance.js'
import type { Lab } from './lab.js'
import { Client } from './sockets.js'
import { adminToken, serviceToken, userToken } from './tokens.js'

const REPLY_MS = 5000
/** How long after Redis is back an admin may still be refused: the gateway retries every 2 s at most. */
const RECOVERY_MS = 10_000
const POLL_MS = 200
/** The outage is probed as it begins and again this long into it, past a few of the gateway's reconnect attempts. */
const OUTAGE_MS = 2000
/** After the recovery, so some of the control traffic's publishes go through the restarted Redis. */
const AFTER_MS = 1000
const VICTIM = 'outage-victim'

const wait = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** How an upgrade ended: `connected`, or its close code and reason (`HTTP <status>` when refused before). */
async function upgrade (port: number, token: string, from: string, path = '/ws/events'): Promise<string> {
  const client = Client.open(port, token, from, path)
  try {
    if (await client.connected(REPLY_MS)) return 'connected'
    const closed = await Promise.race([client.closed, wait(REPLY_MS).then(() => undefined)])
    return closed === undefined ? 'no answer' : `${closed.code === 0 ? '' : `${closed.code} `}${closed.reason}`
  } finally {
    client.close()
  }
}

/** `POST /events` answered how: the status, and when refused its message up to the first colon. */
async function publishAnswer (port: number, token: string): Promise<string> {
  const { status, body } = await publish(port, token, { type: 'outage.attempt' })
  if (status === 202) return '202'
  try {
    return `${status} ${String((JSON.parse(body) as { message?: unknown }).message).split(':')[0] ?? ''}`
  } catch {
    return `${status}`
  }
}

/** `{answer: count}` of `answers`, as text: what a check saw, when it is not what it wanted. */
function tally (answers: string[]): string {
  const counts = new Map<string, number>()
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1)
  return [...counts].map(([answer, n]) => `${n}× ${answer}`).join(', ')
}

/** Whether every answer is `wanted`, and in a few words what they were. */
function judged (answers: string[], wanted: string): { ok: boolean, text: string } {
  const ok = answers.every((a) => a === wanted)
  return { ok, text: ok ? `${answers.length}/${answers.length} ${wanted}` : tally(answers) }
}

/**
 * While Redis is down, on each instance: the revoked session's token, an admin's and a
 * service's upgrade and publish, and a user not seen before.
 */
async function probe (instances: Instance[], from: string): Promise<Record<'refused' | 'upgrades' | 'publishes' | 'users', string[]>> {
  const [refused, upgrades, publishes, users] = await Promise.all([
    Promise.all(instances.map(async (i) => await upgrade(i.port, userToken(VICTIM), from))),
    Promise.all(instances.flatMap((i) => [
      upgrade(i.port, adminToken('outage-admin'), from, '/ws/admin'), upgrade(i.port, serviceToken('outage-service'), from)
    ])),
    Promise.all(instances.flatMap((i) => [publishAnswer(i.port, adminToken('outage-admin')), publishAnswer(i.port, serviceToken('outage-service'))])),
    Promise.all(instances.map(async (i) => await upgrade(i.port, userToken(`outage-user-${i.name}-${Date.now()}`), from)))
  ])
  return { refused, upgrades, publishes, users }
}

/** Polls until both instances answer health 200 and accept an admin, or RECOVERY_MS passed. */
async function recovery (lab: Lab, from: string): Promise<number | undefined> {
  const t0 = performance.now()
  while (performance.now() - t0 < RECOVERY_MS) {
    const health = await Promise.all([lab.a, lab.b].map(async (i) => (await http(i.port, { path: '/ws/health', from, timeoutMs: POLL_MS * 5 })).status))
    if (health.every((status) => status === 200)) {
      const admins = await Promise.all([lab.a, lab.b].map(async (i) => await upgrade(i.port, adminToken('outage-admin'), from, '/ws/admin')))
      if (admins.every((a) => a === 'connected')) return performance.now() - t0
    }
    await wait(POLL_MS)
  }
  return undefined
}

/**
 * An admin revokes a user's session; then Redis goes down. The instances that applied the
 * revocation must still refuse the session, refuse admin and publishing tokens (their
 * revocations cannot be read), and accept other users; once Redis is back, empty, admins are
 * accepted again. It stops Redis, so it runs last.
 */
export const revocationOutage: Check = {
  attack: '8 revocation during outage',
  limit: `session revoked, then Redis down: its token refused 4001, admin and service tokens 1013 / 503 revocation_unavailable, a user accepted; admin accepted < ${RECOVERY_MS / 1000} s after Redis is back`,
  async run ({ lab, log }) {
    const [revoker, victims, outage, back] = addresses(8, 4) as [string, string, string, string]
    const instances = [lab.a, lab.b]
    const sockets = instances.map((i) => Client.open(i.port, userToken(VICTIM), victims))
    const opened = (await Promise.all(sockets.map(async (c) => await c.connected(REPLY_MS)))).every(Boolean)
    const revoked = await http(lab.a.port, {
      method: 'POST', path: `/sessions/s-${VICTIM}/revoke`, from: revoker, headers: { authorization: `Bearer ${adminToken('outage-admin')}` }, body: JSON.stringify({ userId: VICTIM })
    })
    const closes = judged(await Promise.all(sockets.map(async (c) => {
      const closed = await Promise.race([c.closed, wait(REPLY_MS).then(() => undefined)])
      c.close()
      return closed === undefined ? 'still open' : `${closed.code} ${closed.reason}`
    })), '4001 session_revoked')

    await lab.stopRedis()
    const down = performance.now()
    log('redis-server killed')
    const first = await probe(instances, outage)
    await wait(OUTAGE_MS - (performance.now() - down))
    const later = await probe(instances, outage)
    const refused = judged([...first.refused, ...later.refused], '4001 session_revoked')
    const upgrades = judged([...first.upgrades, ...later.upgrades], '1013 revocation_unavailable')
    const publishes = judged([...first.publishes, ...later.publishes], '503 revocation_unavailable')
    const users = judged([...first.users, ...later.users], 'connected')

    await lab.startRedis()
    log('redis-server started again, empty')
    const recovered = await recovery(lab, back)
    lab.endOutage()
    await wait(AFTER_MS)

    const held = opened && revoked.status === 202 && closes.ok && refused.ok && upgrades.ok && publishes.ok && users.ok && recovered !== undefined
    const observed = `before: ${opened ? '' : 'victim NOT connected; '}revoke ${revoked.status}, sockets ${closes.text}; ` +
      `Redis down (probed at once and ${seconds(OUTAGE_MS)} in): revoked token ${refused.text}, admin/service upgrades ${upgrades.text}, POST /events ${publishes.text}, new user ${users.text}; ` +
      `Redis back: ${recovered === undefined ? `admin NOT accepted with health 200 within ${seconds(RECOVERY_MS)}` : `admin accepted, health 200, after ${seconds(recovered)}`}`
    return { held, observed }
  }
}
