/**
 * How many replicas must hold a publish before it is answered, and how long to wait for them.
 * Redis replicates asynchronously: a master that dies takes with it what it acknowledged within
 * the replication lag. `WAIT <replicas> <timeoutMs>` after the write closes that window.
 */
export interface Durability {
  replicas: number
  timeoutMs: number
}

/** The master's word is enough: no WAIT. */
export const NO_REPLICAS: Durability = { replicas: 0, timeoutMs: 0 }

/**
 * Fewer replicas than asked confirmed a write within the timeout. The write stands on the master
 * and may or may not survive its death; a retry under the same idempotency key is safe either way.
 */
export class ReplicationError extends Error {
  constructor (readonly acknowledged: number, readonly wanted: number) {
    super(`${acknowledged} of ${wanted} replicas acknowledged the publish in time`)
    this.name = 'ReplicationError'
  }
}

/** One reply of a pipeline, as ioredis gives it: an error, or none and the result. */
type Reply = [Error | null, unknown]

/**
 * The write's result from the replies of `[write, WAIT]`: the write's error if it failed, a
 * ReplicationError if WAIT counted fewer replicas than `durability` asks.
 */
export function acknowledged (replies: readonly Reply[] | null, durability: Durability): unknown {
  const [write, wait] = replies ?? []
  if (write === undefined || wait === undefined) throw new Error('the publish got no reply')
  if (write[0] !== null) throw write[0]
  const count = wait[0] === null ? Number(wait[1]) : 0
  if (!(count >= durability.replicas)) throw new ReplicationError(count, durability.replicas)
  return write[1]
}
