import { pino } from 'pino'
import t, { type Test } from 'tap'
import { until } from '../../../harness/ports.js'
import { RedisServer } from '../../../harness/redis.js'
import { connectRedis, type RedisClient, readyWithin } from '../../../src/redis-connection.js'
import { RedisStore } from '../../../src/store/redis.js'
import type { Store } from '../../../src/store/store.js'
import { storeContract } from '../../contracts/store-contract.js'
import { within } from '../../helpers/within.js'

const quiet = pino({ level: 'silent' })

/** A RedisStore on a command connection like the gateway's, closed when `t` ends. */
async function openRedisStore (t: Test, url: string): Promise<{ store: RedisStore, connection: RedisClient }> {
  const connection = connectRedis({ kind: 'single', url }, 'commands', quiet)
  t.teardown(() => { connection.disconnect() })
  t.equal(await readyWithin(connection, 5000), true, 'the command connection is ready')
  const store = new RedisStore(connection)
  t.teardown(async () => { await store.close() })
  return { store, connection }
}

/** This file's own Redis: the contract's keys are unique per test, and no other file sees them. */
const shared = await RedisServer.start(t)

storeContract('RedisStore', async (t) => (await openRedisStore(t, shared.url)).store)

/** One call of every operation, so none is forgotten when the outage is checked. */
const operations: Record<keyof Omit<Store, 'close'>, (store: Store) => Promise<unknown>> = {
  increment: async (store) => await store.increment('outage:counter', 1000),
  put: async (store) => { await store.put('outage:value', 'v', 1000) },
  claim: async (store) => await store.claim('outage:nonce', 1000),
  get: async (store) => await store.get('outage:value'),
  take: async (store) => await store.take('outage:value'),
  ttl: async (store) => await store.ttl('outage:value'),
  acquireSlot: async (store) => await store.acquireSlot('outage:slots', 'm', 1, 1000),
  refreshSlots: async (store) => { await store.refreshSlots([{ key: 'outage:slots', member: 'm' }], 1000) },
  releaseSlot: async (store) => { await store.releaseSlot('outage:slots', 'm') },
  admitUpgrade: async (store) => await store.admitUpgrade({ key: 'outage:upgrades', windowMs: 1000, max: 5 }, { key: 'outage:slots', member: 'm', limit: 1, ttlMs: 1000 }),
  recordRevocation: async (store) => { await store.recordRevocation('user:outage', Date.now(), 1000) },
  revocationList: async (store) => await store.revocationList(1000, 10)
}

t.test('RedisStore: every operation rejects, promptly, while Redis is stopped; all work after it restarts', async (t) => {
  const redis = await RedisServer.start(t)
  const { store, connection } = await openRedisStore(t, redis.url)
  await store.put('before', 'up', 60_000)
  t.equal(await store.get('before'), 'up')
  await redis.stop()
  // Twice: right as Redis dies, and once the connection has noticed it is gone.
  for (const when of ['as Redis dies', 'once the connection knows']) {
    for (const [name, call] of Object.entries(operations)) {
      // A hang fails the test here (within rejects and the await throws), not a rejection.
      const outcome = await within(call(store).then(() => 'resolved', (err: unknown) => err), 3000, `${name} to settle ${when}`)
      t.type(outcome, Error, `${name} rejects ${when}`)
    }
    await until(() => connection.status !== 'ready', 5000, 'the connection to notice Redis is gone')
  }
  await redis.start()
  t.equal(await readyWithin(connection, 10_000), true, 'the connection comes back by itself')
  t.equal(await store.increment('after:counter', 60_000), 1)
  await store.put('after:value', 'back', 60_000)
  t.equal(await store.get('after:value'), 'back')
  t.equal(await store.take('after:value'), 'back')
  t.equal(await store.acquireSlot('after:slots', 'a', 1, 60_000), true)
  await store.refreshSlots([{ key: 'after:slots', member: 'a' }], 60_000)
  t.equal(await store.acquireSlot('after:slots', 'b', 1, 60_000), false)
  await store.releaseSlot('after:slots', 'a')
  t.equal(await store.acquireSlot('after:slots', 'b', 1, 60_000), true)
})
