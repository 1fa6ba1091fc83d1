import type { Connection, Socket } from './connection.js'
import { countsAsFailure } from './credentials.js'
import { CloseCode, ProtocolError } from './errors.js'
import { type Identity, isAdmin } from './identity.js'
import { type ClientFrame, encodeFault, encodeFrame, type Sealer } from './protocol.js'
import type { RevokedReason } from './revocations.js'
import type { SecurityReporter } from './security.js'

/** What a socket session needs to check tokens after the upgrade. */
export interface TokenContext {
  /**
   * Verifies a token exactly as an upgrade's is verified: signature, pinned algorithm, claims,
   * revocation. Resolves with the identity, or the reason it is refused (`token_expired`, …).
   */
  verify: (token: string) => Promise<Identity | string>
  /** Why a revocation this instance has just applied covers `identity` (the close reason), or undefined. */
  revoked: (identity: Identity) => RevokedReason | undefined
  /**
   * Counts a token that failed verification against the address `socket` was opened from, as
   * a failed upgrade would be (AUTH_FAILURE_LIMIT). True when that address is blocked: the
   * failure is then not counted again, and the connection is closed.
   */
  failed: (socket: Socket) => Promise<boolean>
  /** TOKEN_EXPIRY_WARNING: `token_expiring` goes out this long before `exp`; 0 sends none. */
  expiryWarningMs: number
  /** MESSAGE_SIGNING_SECRET's sealing of the frames sent, when it is set. */
  seal?: Sealer | undefined
}

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Milliseconds until the clock must next wake: at the warning, then at expiry, capped at MAX_TIMER_MS. */
export function nextWake (now: number, expiresAt: number, warningMs: number, warned: boolean): number {
  const at = warned || warningMs === 0 ? expiresAt : expiresAt - warningMs
  return Math.min(Math.max(0, at - now), MAX_TIMER_MS)
}

/**
 * One connection's token deadline: `token_expiring` TOKEN_EXPIRY_WARNING before `exp` (at once
 * when the token is already that close), close 4001 `token_expired` at `exp`, unless a
 * `reauthenticate` with a fresh token for the same user moves the deadline.
 *
 * One timer per connection, re-armed from the warning to the expiry: Node keeps timers in a
 * priority queue behind a single libuv timer, so 20k connections cost 20k small objects (about
 * 7 MB, 2-3 µs to arm each, measured) and an O(log n) insert per re-arm. A shared schedule would
 * have to re-implement that queue, with removal on every close and reauthentication.
 */
export class TokenLifetime {
  private timer: NodeJS.Timeout | undefined
  private warned = false

  constructor (
    private readonly ctx: TokenContext,
    private readonly security: SecurityReporter,
    private readonly connection: Connection,
    /** Told once a new token is in place, after the reply: its rooms may differ from the old one's. */
    private readonly rooms?: { regrant: (connection: Connection) => void }
  ) {}

  /** Starts, or after a reauthentication restarts, the countdown to the token's `exp`. */
  start (): void {
    this.stop()
    this.warned = false
    this.tick()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** `reauthenticate {token}`: answers `reauthenticated`, an UNAUTHORIZED error, or closes. */
  async reauthenticate (frame: ClientFrame): Promise<void> {
    const { connection } = this
    const { token } = frame.payload
    if (typeof token !== 'string' || token === '') {
      connection.send(encodeFault({ code: ProtocolError.INVALID_MESSAGE, message: 'payload.token must be a non-empty string', id: frame.id }, this.ctx.seal))
      return
    }
    const result = await this.ctx.verify(token)
    // Closed while the token was checked (expired, revoked, gone): nothing is left to extend.
    if (!connection.open) return
    const { userId, sessionId } = connection.identity
    const audit = { userId, sessionId, connectionId: connection.id, request: 'reauthenticate' }
    if (typeof result === 'string') {
      this.security.report('security.auth.failed', { ...audit, reason: result })
      // Else one socket could try tokens without end, where upgrades would be blocked.
      const blocked = countsAsFailure(result) && await this.ctx.failed(connection.socket)
      if (!connection.open) return
      if (blocked) {
        connection.close(CloseCode.POLICY_VIOLATION, 'too_many_auth_failures')
        return
      }
      // The connection keeps its current token, and with it its deadline.
      connection.send(encodeFault({ code: ProtocolError.UNAUTHORIZED, message: result, id: frame.id }, this.ctx.seal))
      return
    }
    if (result.userId !== userId) {
      this.security.report('security.auth.failed', { ...audit, reason: 'token_user_mismatch', tokenUserId: result.userId })
      connection.close(CloseCode.UNAUTHORIZED, 'token_user_mismatch')
      return
    }
    if (connection.stream === 'admin' && !isAdmin(result)) {
      this.security.report('security.auth.failed', { ...audit, reason: 'admin_required' })
      connection.close(CloseCode.FORBIDDEN, 'admin_required')
      return
    }
    connection.identity = result
    this.security.report('authentication.token.refresh', { ...audit, sessionId: result.sessionId, reason: 'reauthenticated', expiresAt: isoOrNull(result.expiresAt) })
    connection.send(encodeFrame('reauthenticated', frame.id, { expiresAt: isoOrNull(result.expiresAt) }, this.ctx.seal))
    this.rooms?.regrant(connection)
    // After the reply: a token already close to `exp` gets its `token_expiring` right behind it.
    this.start()
  }

  /** The timers' one callback, given the lifetime as its argument: none is made per connection. */
  private static wake (lifetime: TokenLifetime): void {
    lifetime.tick()
  }

  private tick (): void {
    this.timer = undefined
    const { expiresAt } = this.connection.identity
    if (expiresAt === undefined) return
    const now = Date.now()
    if (now >= expiresAt) {
      const { connection } = this
      connection.log.info('token expired, closing')
      connection.close(CloseCode.UNAUTHORIZED, 'token_expired')
      const { userId, sessionId } = connection.identity
      this.security.report('session.expired', { reason: 'token_expired', userId, sessionId, connectionId: connection.id, expiresAt: isoOrNull(expiresAt) })
      return
    }
    const { expiryWarningMs } = this.ctx
    if (!this.warned && expiryWarningMs > 0 && now >= expiresAt - expiryWarningMs) {
      this.warned = true
      this.connection.send(encodeFrame('token_expiring', undefined, { expiresAt: isoOrNull(expiresAt) }, this.ctx.seal))
    }
    this.timer = setTimeout(TokenLifetime.wake, nextWake(now, expiresAt, expiryWarningMs, this.warned), this)
    // The socket keeps the process alive while it is open; the timer need not.
    this.timer.unref()
  }
}

export function isoOrNull (epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString()
}
