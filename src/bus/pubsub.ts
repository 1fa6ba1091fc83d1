import type { RedisClient } from '../redis-connection.js'

/**
 * How the events channel is published and subscribed. One Redis keeps classic pub/sub, which
 * any Redis from 6.2 on serves. A cluster uses sharded pub/sub (Redis 7): a classic PUBLISH is
 * broadcast over the cluster bus to every node, while SPUBLISH stays on the node that owns the
 * channel's slot, the same node as the event log's keys (one hash tag), so the publish script
 * may send it itself.
 */
export interface PubSub {
  publish: 'PUBLISH' | 'SPUBLISH'
  subscribe: 'subscribe' | 'ssubscribe'
  unsubscribe: 'unsubscribe' | 'sunsubscribe'
  /** The event ioredis emits a message on. */
  message: 'message' | 'smessage'
}

const CLASSIC: PubSub = { publish: 'PUBLISH', subscribe: 'subscribe', unsubscribe: 'unsubscribe', message: 'message' }
const SHARDED: PubSub = { publish: 'SPUBLISH', subscribe: 'ssubscribe', unsubscribe: 'sunsubscribe', message: 'smessage' }

export function pubSubOf (redis: RedisClient): PubSub {
  return redis.isCluster ? SHARDED : CLASSIC
}
