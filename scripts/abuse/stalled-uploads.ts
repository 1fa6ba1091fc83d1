import { type Check, addresses, mb, seconds } from './check.js'
import { RawConnection } from './http.js'
import { forgedToken, serviceToken } from './tokens.js'

/** A refusal that waits for no body comes at once; this is generous for a loaded machine. */
const REFUSAL_MS = 2000
const RSS_BOUND_MB = 32
const HUGE = 10 * 1024 * 1024
/** Under the 1 MiB body limit, so nothing refuses it on its length alone. */
const LARGE = 1_000_000
/**
 * Part of a LARGE body: what an instance that reads before it authenticates holds per upload.
 * An instance that refuses first still reads and drops these bytes, and its peak RSS shows them
 * until it collects garbage: a quarter of a megabyte keeps that well under the bound.
 */
const PARTIAL = Buffer.alloc(256 * 1024, 'x')

interface Kind { forged: boolean, length: number, body?: Buffer }
/**
 * Forged tokens announcing 10 MB, or 1 MB of which 256 KiB come; valid tokens announcing
 * 10 MB or 1 MB of which nothing comes.
 */
const KINDS: Kind[] = [
  { forged: true, length: HUGE },
  { forged: true, length: LARGE, body: PARTIAL },
  { forged: false, length: HUGE },
  { forged: false, length: LARGE }
]

const head = (port: number, token: string, length: number): string => [
  'POST /events HTTP/1.1', `Host: 127.0.0.1:${port}`, `Authorization: Bearer ${token}`,
  'Content-Type: application/json', `Content-Length: ${length}`, '', ''
].join('\r\n')

/** Uploads whose body never (fully) comes, at both instances, each from an address of its own. */
export const stalledUploads: Check = {
  attack: '2 stalled uploads',
  limit: `bad token: 401 within ${REFUSAL_MS / 1000} s, before the body; RSS < ${RSS_BOUND_MB} MB; every socket closed by the timeouts`,
  async run ({ lab, sizes, growthMb }) {
    const tokens = { forged: forgedToken('stranger'), valid: serviceToken('slow-uploader') }
    const conns = addresses(2, sizes.stalledUploads).map((from, i) => {
      const instance = i % 2 === 0 ? lab.a : lab.b
      const kind = KINDS[Math.floor(i / 2) % KINDS.length] as Kind
      const token = kind.forged ? tokens.forged : tokens.valid
      return { kind, conn: new RawConnection(instance.port, from, head(instance.port, token, kind.length), kind.body) }
    })
    const t0 = performance.now()
    await Promise.race([
      Promise.all(conns.map(async (c) => await c.conn.closed)),
      new Promise((resolve) => setTimeout(resolve, sizes.timeoutBoundMs))
    ])
    const forged = conns.filter((c) => c.kind.forged)
    const refusedInTime = forged.filter((c) => c.conn.status === 401 && (c.conn.answeredAt as number) - c.conn.opened <= REFUSAL_MS).length
    const statuses = new Map<number, number>()
    for (const c of forged) statuses.set(c.conn.status, (statuses.get(c.conn.status) ?? 0) + 1)
    const closed = conns.filter((c) => c.conn.closedAt !== undefined && c.conn.closedAt - t0 <= sizes.timeoutBoundMs)
    const lastClose = Math.max(0, ...closed.map((c) => (c.conn.closedAt as number) - c.conn.opened))
    const growth = Math.max(growthMb(lab.a), growthMb(lab.b))
    for (const c of conns) c.conn.destroy()
    const answers = [...statuses].map(([status, n]) => `${n}×${status === 0 ? 'none' : status}`).join(', ')
    return {
      held: refusedInTime === forged.length && growth < RSS_BOUND_MB && closed.length === conns.length,
      observed: `bad token: ${refusedInTime}/${forged.length} 401 in time (${answers}); closed ${closed.length}/${conns.length} within ${seconds(sizes.timeoutBoundMs)}` +
        `${closed.length > 0 ? `, last at ${seconds(lastClose)}` : ''}; RSS +${mb(growth)}`
    }
  }
}
