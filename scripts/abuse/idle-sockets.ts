import { type Check, addresses, seconds } from './check.js'
import { RawConnection } from './http.js'
import { Client } from './sockets.js'
import { userToken } from './tokens.js'

const CONNECT_MS = 5000
/** Sockets opened per address: a few addresses, as from a handful of hosts. */
const PER_ADDRESS = 100

/**
 * Thousands of TCP connections, split over both instances, that never send a request. While
 * they are open, a legitimate user connects to each instance.
 */
export const idleSockets: Check = {
  attack: '3 idle sockets',
  limit: 'every silent connection closed by the connection timeout; a user still connects meanwhile',
  async run ({ lab, sizes }) {
    const from = addresses(3, Math.ceil(sizes.idleSockets / PER_ADDRESS))
    const conns = Array.from({ length: sizes.idleSockets }, (_, i) => {
      const instance = i % 2 === 0 ? lab.a : lab.b
      return new RawConnection(instance.port, from[i % from.length] as string)
    })
    const opened = (await Promise.all(conns.map(async (c) => await c.connected))).filter(Boolean).length
    const users = [lab.a, lab.b].map((instance, i) => Client.open(instance.port, userToken(`idle-bystander-${i}`), '127.0.0.1'))
    const usersConnected = (await Promise.all(users.map(async (u) => await u.connected(CONNECT_MS)))).filter(Boolean).length
    for (const user of users) user.close()
    const t0 = performance.now()
    await Promise.race([
      Promise.all(conns.map(async (c) => await c.closed)),
      new Promise((resolve) => setTimeout(resolve, sizes.timeoutBoundMs))
    ])
    const closed = conns.filter((c) => c.closedAt !== undefined && c.closedAt - t0 <= sizes.timeoutBoundMs)
    const lastClose = Math.max(0, ...closed.map((c) => (c.closedAt as number) - c.opened))
    for (const c of conns) c.destroy()
    return {
      held: opened === conns.length && closed.length === conns.length && usersConnected === users.length,
      observed: `${opened}/${conns.length} opened; closed ${closed.length} within ${seconds(sizes.timeoutBoundMs)}${closed.length > 0 ? ` (last at ${seconds(lastClose)})` : ''}; users connected ${usersConnected}/${users.length}`
    }
  }
}
