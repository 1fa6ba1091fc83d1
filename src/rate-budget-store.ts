import type { Result } from 'ioredis'
import { type Count, LEASE_SCRIPT, RateBudget } from './rate-budget.js'
import type { RedisClient } from './redis-connection.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** The lease script (see rate-budget.ts): key, want, max, window ms; replies count, granted, ttl. */
    eventgateLease: (key: string, want: number, max: number, windowMs: number) => Result<[number, number, number], Context>
  }
}

/** The store contract of @fastify/rate-limit, as far as a counter needs it. */
export interface CounterStore {
  incr: (key: string, callback: (err: Error | null, count?: Count) => void, timeWindow: number, max: number) => void
  /** `routeOptions.routeInfo` is the route (the library's type declarations leave it out). */
  child: (routeOptions: object) => CounterStore
}

/**
 * A store for @fastify/rate-limit whose counters live in Redis, shared by every instance, and are
 * leased through a RateBudget: a busy publisher costs one round trip per tick, not per request.
 * Keys are named as the library's own Redis store names them.
 */
export function budgetStore (redis: RedisClient, nameSpace: string): new () => CounterStore {
  redis.defineCommand('eventgateLease', { numberOfKeys: 1, lua: LEASE_SCRIPT })
  const budget = new RateBudget(async (key, want, max, windowMs) => {
    const [count, granted, ttlMs] = await redis.eventgateLease(key, want, max, windowMs)
    return { count, granted, ttlMs }
  })
  class BudgetStore implements CounterStore {
    constructor (private readonly prefix = nameSpace) {}

    incr (key: string, callback: (err: Error | null, count?: Count) => void, timeWindow: number, max: number): void {
      budget.take(this.prefix + key, max, timeWindow).then((count) => { callback(null, count) }, (err: Error) => { callback(err) })
    }

    child (routeOptions: object): CounterStore {
      const { method = '', url = '' } = (routeOptions as { routeInfo?: { method?: string, url?: string } }).routeInfo ?? {}
      return new BudgetStore(`${nameSpace}${method}${url}-`)
    }
  }
  return BudgetStore
}
