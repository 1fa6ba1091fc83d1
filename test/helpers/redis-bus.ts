import { pino } from 'pino'
import type { Test } from 'tap'
import { until } from '../../harness/ports.js'
import type { Durability } from '../../src/bus/durability.js'
import { RedisBus } from '../../src/bus/redis.js'
import type { Retention } from '../../src/history.js'
import type { Log } from '../../src/logging.js'
import { connectRedis } from '../../src/redis-connection.js'
import { RETENTION } from '../contracts/bus-contract.js'

const quiet = pino({ level: 'silent' })

/** A RedisBus with a publisher connection of its own, both closed when `t` ends, once it can publish. */
export async function openRedisBus (t: Test, url: string, options: { log?: Log, retention?: Partial<Retention>, serverId?: string, durability?: Durability } = {}): Promise<RedisBus> {
  const log = options.log ?? quiet
  const publisher = connectRedis({ kind: 'single', url }, 'commands', log)
  t.teardown(() => { publisher.disconnect() })
  const bus = new RedisBus({ kind: 'single', url }, publisher, log, { ...RETENTION, ...options.retention }, options.serverId ?? 'test', options.durability)
  t.teardown(async () => { await bus.close() })
  await until(() => publisher.status === 'ready', 5000, 'the publisher connection')
  return bus
}
