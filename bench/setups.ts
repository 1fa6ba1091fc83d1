import type { ContenderName } from './clients.js'

export type RedisKind = 'single' | 'cluster'

/**
 * What the cluster scenario compares: the same workload on eventgate over a Redis Cluster, on
 * one redis-server, and on Socket.IO's sharded adapter over the same kind of cluster.
 */
export const SETUPS = [
  { name: 'eventgate-cluster', contender: 'eventgate', redis: 'cluster', label: 'eventgate, cluster' },
  { name: 'eventgate-single', contender: 'eventgate', redis: 'single', label: 'eventgate, one Redis' },
  { name: 'socketio-cluster', contender: 'socketio', redis: 'cluster', label: 'Socket.IO sharded, cluster' }
] as const satisfies ReadonlyArray<{ name: string, contender: ContenderName, redis: RedisKind, label: string }>

export type Setup = typeof SETUPS[number]
