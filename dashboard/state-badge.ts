import type { ClientState, ReconnectInfo } from '../src/client/index.js'

/** The connection badge: the client's state, and while it waits to reconnect, the countdown. */
export class StateBadge {
  private timer: ReturnType<typeof setInterval> | undefined

  constructor (private readonly badge: HTMLElement) {}

  show (state: ClientState): void {
    clearInterval(this.timer)
    this.badge.dataset.state = state
    this.badge.textContent = state
  }

  /** While the SDK waits before its next attempt: the countdown, and the close that caused it. */
  countdown ({ attempt, delayMs, cause }: ReconnectInfo): void {
    clearInterval(this.timer)
    const due = Date.now() + delayMs
    const why = cause === undefined ? '' : ` after ${cause.code}${cause.reason === '' ? '' : ` ${cause.reason}`}`
    const tick = (): void => {
      const left = Math.max(0, Math.ceil((due - Date.now()) / 1000))
      this.badge.textContent = `${this.badge.dataset.state ?? ''} · attempt ${attempt} ${left === 0 ? 'now' : `in ${left} s`}${why}`
      if (left === 0) clearInterval(this.timer)
    }
    tick()
    this.timer = setInterval(tick, 250)
  }
}
