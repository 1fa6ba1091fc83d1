import { EventgateError } from './errors.js'
import { readFault, readTime } from './frames.js'
import type { Link } from './link.js'
import { earliestRefresh, refreshDue, tokenExpiresAt } from './token.js'

/** A refresh that failed is tried again halfway to the deadline, unless less than this is left. */
const MIN_RETRY_MS = 1000

export interface RefreshContext {
  getToken: () => string | Promise<string>
  /** Sends `reauthenticate`: the new deadline (null: none), the refusal, or undefined once the socket is gone. */
  reauthenticate: (token: string) => Promise<{ expiresAt: number | null } | EventgateError | undefined>
  report: (err: EventgateError) => void
}

/**
 * Keeps one socket's token fresh: before the deadline the gateway announced it asks
 * `getToken()` again and sends the token on the same socket. A `token_expiring` brings the
 * refresh forward; without one (TOKEN_EXPIRY_WARNING=0) the client's own schedule does it.
 * If every refresh fails, the gateway closes 4001 at `exp` and the reconnect asks again.
 */
export class TokenRefresher {
  private expiresAt: number | null = null
  private learntAt = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private dueAt = Infinity
  private running = false
  private stopped = false

  constructor (private readonly ctx: RefreshContext) {}

  /** The deadline of `connected` or `reauthenticated`. */
  deadline (expiresAt: number | null): void {
    this.expiresAt = expiresAt
    this.learntAt = Date.now()
    this.cancel()
    if (expiresAt !== null) this.schedule(refreshDue(expiresAt, this.learntAt))
  }

  /** `token_expiring`; one about a deadline a refresh already moved is stale. */
  expiring (expiresAt: number | null | undefined): void {
    if (this.expiresAt === null || expiresAt !== this.expiresAt) return
    this.schedule(Math.max(Date.now(), earliestRefresh(this.expiresAt, this.learntAt)))
  }

  stop (): void {
    this.stopped = true
    this.cancel()
  }

  private cancel (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.dueAt = Infinity
  }

  /** Arms the refresh for `at`, unless one is under way or already due sooner. */
  private schedule (at: number): void {
    if (this.running || this.stopped || at >= this.dueAt) return
    clearTimeout(this.timer)
    this.dueAt = at
    this.timer = setTimeout(() => { void this.run() }, Math.max(0, at - Date.now()))
  }

  private async run (): Promise<void> {
    this.cancel()
    this.running = true
    const current = this.expiresAt
    let result: Awaited<ReturnType<RefreshContext['reauthenticate']>>
    try {
      const token = await this.fetchToken()
      const exp = tokenExpiresAt(token)
      // The same (or an older) token buys no time; the gateway would take it and keep the deadline.
      if (exp !== undefined && current !== null && exp <= current) {
        throw new EventgateError('TOKEN_UNAVAILABLE', 'getToken() returned a token that expires no later than the connection\'s')
      }
      result = this.stopped ? undefined : await this.ctx.reauthenticate(token)
    } catch (err) {
      result = err as EventgateError
    } finally {
      this.running = false
    }
    if (this.stopped || result === undefined) return
    if (result instanceof EventgateError) {
      this.ctx.report(result)
      this.retry()
      return
    }
    this.deadline(result.expiresAt)
  }

  private async fetchToken (): Promise<string> {
    try {
      return await this.ctx.getToken()
    } catch (err) {
      throw new EventgateError('TOKEN_UNAVAILABLE', `getToken() failed: ${messageOf(err)}`, { cause: err })
    }
  }

  private retry (): void {
    if (this.expiresAt === null) return
    const left = this.expiresAt - Date.now()
    if (left >= 2 * MIN_RETRY_MS) this.schedule(Date.now() + left / 2)
  }
}

export function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** `reauthenticate` on one socket, answered as RefreshContext's `reauthenticate` says. */
export async function reauthenticateOn (link: Link, token: string): ReturnType<RefreshContext['reauthenticate']> {
  const reply = await link.request('reauthenticate', { token })
  if (reply === undefined) return undefined
  if (reply.type === 'reauthenticated') return { expiresAt: readTime(reply.payload.expiresAt) ?? null }
  const fault = readFault(reply.payload)
  return new EventgateError(fault.code, `reauthenticate refused: ${fault.message}`)
}
