import { EnvSchema } from '../../src/config.js'
import { type Check, addresses } from './check.js'
import { http } from './http.js'
import { Client, type Frame } from './sockets.js'
import { forgedToken, serviceToken, userToken } from './tokens.js'

/** The gateway's default AUTH_FAILURE_LIMIT: the instances run with it. */
const AUTH_FAILURE_LIMIT = Number(EnvSchema.properties.AUTH_FAILURE_LIMIT.default)
/** Failures are counted in the shared store after each answer: the block may land a few frames late. */
const SLACK = 5
const TOKENLESS = 30
const FORGED = 300
/** The message bucket (WEBSOCKET_MESSAGE_BURST 100, 20/s): stay inside it, so only the auth limit can stop the frames. */
const BURST = 60
const PACE_MS = 60
const REPLY_MS = 5000

/**
 * An attacker behind the same address as a valid user (a NAT, a proxy) sends token-less
 * requests; then the user publishes and connects from that address.
 */
export const thirdPartyLockout: Check = {
  attack: '5 third-party lockout',
  limit: `after ${TOKENLESS} token-less requests from the address, its valid user's publish and upgrade are accepted`,
  async run ({ lab }) {
    const [shared] = addresses(5, 1) as [string]
    for (let i = 0; i < TOKENLESS; i++) {
      await http(i % 2 === 0 ? lab.a.port : lab.b.port, { method: 'POST', path: '/events', from: shared, body: '{"type":"account.activity"}' })
    }
    const published = await http(lab.b.port, {
      method: 'POST', path: '/events', from: shared, headers: { authorization: `Bearer ${serviceToken('shared-service')}` }, body: '{"type":"shared.ok"}'
    })
    const user = Client.open(lab.a.port, userToken('shared-user'), shared)
    const connected = await user.connected(REPLY_MS)
    const closed = connected ? undefined : await user.closed
    user.close()
    return {
      held: published.status === 202 && connected,
      observed: `publish ${published.status}; upgrade ${connected ? 'connected' : `refused (${closed?.code === 0 ? closed.reason : `${closed?.code ?? ''} ${closed?.reason ?? ''}`})`}`
    }
  }
}

/**
 * One authenticated socket sends forged tokens through `reauthenticate`, paced inside its
 * message rate so that only the auth-failure limit can stop it.
 */
export const forgedReauth: Check = {
  attack: '5 forged reauthenticate',
  limit: `${FORGED} forged tokens on one socket: at most ${AUTH_FAILURE_LIMIT + SLACK} verified (AUTH_FAILURE_LIMIT ${AUTH_FAILURE_LIMIT} + ${SLACK} in flight), then closed or refused`,
  async run ({ lab }) {
    const [from] = addresses(51, 1) as [string]
    const client = Client.open(lab.a.port, userToken('reauth-prober'), from)
    if (!await client.connected(REPLY_MS)) return { held: false, observed: 'the prober could not connect' }
    const forged = forgedToken('reauth-prober')
    let verified = 0
    let refused = 0
    let sent = 0
    while (sent < FORGED && client.isOpen) {
      const reply: Frame | undefined = await client.request('reauthenticate', { token: forged }, REPLY_MS)
      sent++
      if (reply?.payload.message === 'token_invalid') verified++
      else if (reply !== undefined) refused++
      if (sent >= BURST) await new Promise((resolve) => setTimeout(resolve, PACE_MS))
    }
    const open = client.isOpen
    const closed = open ? undefined : await client.closed
    client.close()
    return {
      held: verified <= AUTH_FAILURE_LIMIT + SLACK && (!open || refused > 0),
      observed: `${sent} sent, ${verified} verified and refused token_invalid, ${refused} refused otherwise; socket ${open ? 'open' : `closed ${closed?.code ?? ''} ${closed?.reason ?? ''}`}`
    }
  }
}
