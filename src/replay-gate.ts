/** What waits for a turn: a connection, which may close while it waits. */
export interface Waiting {
  readonly open: boolean
}

/** Gives the turn back; a second call does nothing. */
export type Leave = () => void

interface Waiter {
  readonly who: Waiting
  settled: boolean
  settle: (granted: boolean) => void
}

/** One queue of turns: at most `limit` hold one at once; the others wait in arrival order. */
class Turns {
  running = 0
  private readonly queue: Waiter[] = []

  constructor (private readonly limit: number) {}

  get idle (): boolean {
    return this.running === 0 && this.queue.length === 0
  }

  take (waiter: Waiter): void {
    if (this.running < this.limit) {
      this.running++
      waiter.settle(true)
    } else {
      this.queue.push(waiter)
    }
  }

  give (): void {
    this.running--
    while (this.running < this.limit) {
      const next = this.queue.shift()
      if (next === undefined) return
      // Left already (its socket closed): its place goes to the one behind it.
      if (next.settled) continue
      if (!next.who.open) {
        next.settle(false)
        continue
      }
      this.running++
      next.settle(true)
    }
  }
}

/**
 * Bounds the resumes that read the history at once: `perInstance` on this instance, and
 * `perUser` of them for one user, so a user with many sockets cannot take every turn. The
 * excess waits in arrival order rather than being refused: a client would only retry. A user's
 * queue is bounded by their connections, since a connection handles one request at a time.
 */
export class ReplayGate {
  private readonly instance: Turns
  private readonly users = new Map<string, Turns>()
  private readonly waiting = new Map<Waiting, Waiter>()

  constructor (private readonly limits: { perInstance: number, perUser: number }) {
    this.instance = new Turns(limits.perInstance)
  }

  /** Users with a resume running or waiting. */
  get activeUsers (): number {
    return this.users.size
  }

  /**
   * Resolves with the function that gives the turn back once `who` may read the history, or
   * with undefined when `who` closed before its turn came: it must not run then.
   */
  async enter (userId: string, who: Waiting): Promise<Leave | undefined> {
    let user = this.users.get(userId)
    if (user === undefined) this.users.set(userId, user = new Turns(this.limits.perUser))
    if (!await this.turn(user, who)) {
      this.forget(userId, user)
      return undefined
    }
    const own = user
    const giveBack = (): void => {
      own.give()
      this.forget(userId, own)
    }
    if (!await this.turn(this.instance, who)) {
      giveBack()
      return undefined
    }
    // Granted, but the socket may have closed between the grant and this line.
    if (!who.open) {
      this.instance.give()
      giveBack()
      return undefined
    }
    let left = false
    return () => {
      if (left) return
      left = true
      this.instance.give()
      giveBack()
    }
  }

  /** `who` closed: a resume of its that waits for a turn gives up its place now. */
  abandon (who: Waiting): void {
    this.waiting.get(who)?.settle(false)
  }

  private async turn (turns: Turns, who: Waiting): Promise<boolean> {
    if (!who.open) return false
    return await new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        who,
        settled: false,
        settle: (granted) => {
          if (waiter.settled) return
          waiter.settled = true
          this.waiting.delete(who)
          resolve(granted)
        }
      }
      this.waiting.set(who, waiter)
      turns.take(waiter)
    })
  }

  private forget (userId: string, turns: Turns): void {
    if (turns.idle && this.users.get(userId) === turns) this.users.delete(userId)
  }
}
