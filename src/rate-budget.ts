/**
 * What the shared counter answers to a lease: its count after adding what was asked, how many
 * of those were granted (never past the limit), and the ms left of its window.
 */
export interface Lease {
  count: number
  granted: number
  ttlMs: number
}

/** Takes `want` from a key's shared counter for a window of `windowMs`, up to `max` in all. */
export type Lessor = (key: string, want: number, max: number, windowMs: number) => Promise<Lease>

/** What a request is told: its number in the window (over `max`: refused) and the ms left of it. */
export interface Count {
  current: number
  ttl: number
}

/**
 * The most a lease takes beyond the requests waiting for it, as a share of the limit: what an
 * instance holds unused is what the others cannot have, so a publisher at its limit is refused
 * early by at most 1/32 of it per other instance, and never admitted past it.
 */
const PREFETCH_SHARE = 32
/** And in any case, so that one lease stays a few seconds' work at most. */
const MAX_PREFETCH = 1024

/**
 * Budgets kept before expired ones are swept (one per key counted lately: a publisher, a user's
 * upgrades), and not more often than this, so that a storm of new keys does not sweep on each.
 */
const SWEEP_AT = 10_000
const SWEEP_EVERY_MS = 1000

type Waiter = (count: Count | Error) => void

interface Budget {
  /** Granted and not yet used, numbered from `next`, until `expiresAt`. */
  left: number
  next: number
  expiresAt: number
  /** The size of the last lease: the next one taken while this one is in use may double it. */
  size: number
  /** Requests waiting for a lease; one lease at a time per key, the rest wait for the next. */
  waiting: Waiter[]
  leasing: boolean
}

/**
 * A rate limit shared by every instance through one counter per key, without a round trip per
 * request: an instance leases part of the budget (one call for every request waiting in the tick,
 * plus some ahead while a key is busy) and admits from its lease locally. The counter only ever
 * grants up to the limit, so all instances together admit at most `max` per window, as one shared
 * counter would; a quiet key leases exactly what it is asked for, one round trip per request as
 * before. A request is refused when no lease has room for it.
 */
export class RateBudget {
  private readonly budgets = new Map<string, Budget>()
  private sweptAt = Number.NEGATIVE_INFINITY

  constructor (private readonly lessor: Lessor, private readonly now: () => number = Date.now) {}

  /** The keys with a budget kept here. */
  get size (): number {
    return this.budgets.size
  }

  /** Counts one request of `key`, resolving with its place in the window. */
  async take (key: string, max: number, windowMs: number): Promise<Count> {
    const budget = this.budgetOf(key)
    const now = this.now()
    if (budget.expiresAt <= now) budget.left = 0
    if (budget.left > 0 && budget.waiting.length === 0) {
      budget.left--
      return { current: budget.next++, ttl: budget.expiresAt - now }
    }
    const count = await new Promise<Count | Error>((resolve) => {
      budget.waiting.push(resolve)
      if (budget.waiting.length === 1 && !budget.leasing) setImmediate(() => { this.lease(key, budget, max, windowMs) })
    })
    if (count instanceof Error) throw count
    return count
  }

  private budgetOf (key: string): Budget {
    let budget = this.budgets.get(key)
    if (budget === undefined) {
      if (this.budgets.size >= SWEEP_AT && this.now() - this.sweptAt >= SWEEP_EVERY_MS) this.sweep()
      budget = { left: 0, next: 0, expiresAt: 0, size: 0, waiting: [], leasing: false }
      this.budgets.set(key, budget)
    }
    return budget
  }

  private sweep (): void {
    const now = this.now()
    this.sweptAt = now
    for (const [key, budget] of this.budgets) {
      if (budget.expiresAt <= now && !budget.leasing && budget.waiting.length === 0) this.budgets.delete(key)
    }
  }

  private lease (key: string, budget: Budget, max: number, windowMs: number): void {
    const batch = budget.waiting.splice(0)
    const busy = budget.size > 0 && budget.expiresAt > this.now()
    const ahead = busy ? Math.min(2 * budget.size, Math.floor(max / PREFETCH_SHARE), MAX_PREFETCH) : 0
    const want = batch.length + ahead
    budget.leasing = true
    this.lessor(key, want, max, windowMs).then(({ count, granted, ttlMs }) => {
      budget.leasing = false
      budget.size = granted
      budget.expiresAt = this.now() + ttlMs
      budget.next = count - want + 1
      budget.left = granted
      // The requests of the lease take it in order, then those that came meanwhile; past it, they
      // are refused (with the number they would have had, which is past the limit) when the
      // counter had no more to give, and wait for the next lease when it was not asked for more.
      const full = granted === want
      const late = budget.waiting.splice(0)
      for (const [i, resolve] of [...batch, ...late].entries()) {
        if (budget.left > 0) {
          budget.left--
          resolve({ current: budget.next++, ttl: ttlMs })
        } else if (full && i >= batch.length) {
          budget.waiting.push(resolve)
        } else {
          resolve({ current: Math.max(max + 1, budget.next), ttl: ttlMs })
        }
      }
      if (budget.waiting.length > 0) setImmediate(() => { this.lease(key, budget, max, windowMs) })
    }, (err: unknown) => {
      budget.leasing = false
      const error = err instanceof Error ? err : new Error(String(err))
      for (const resolve of [...batch, ...budget.waiting.splice(0)]) resolve(error)
    })
  }
}

/**
 * The lease as one Redis script on the key's counter: add what is asked (refused requests count
 * too, as with a plain counter), grant what still fits under the limit, start the window with the
 * key. Replies count, granted, ttl.
 */
export const LEASE_SCRIPT = `
local want = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local count = redis.call('INCRBY', KEYS[1], want)
local before = count - want
if before == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
return { count, math.max(0, math.min(want, max - before)), ttl }`
