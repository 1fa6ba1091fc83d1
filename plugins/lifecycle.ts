import fp from 'fastify-plugin'
import { BusWatch } from '../src/bus-watch.js'

/** How often the bus's connected state is read for `system.redis.*`: the health canary's pace is too slow to tell an outage's length. */
const BUS_WATCH_INTERVAL_MS = 1000

/**
 * The instance's own `system.*` events, to admins: started, and Redis lost and back. Draining
 * is reported by the shutdown plugin, which owns that step. A lost Redis cannot carry the news
 * of its loss: the loss is logged at once, and `system.redis.lost` (with `lostAt`) is published
 * when Redis is back, right before `system.redis.recovered`.
 */
export default fp(async function lifecyclePlugin (app) {
  const { bus, security, config } = app
  const serverId = config.serverId
  app.addHook('onReady', async () => {
    security.report('system.instance.started', { reason: 'started', bus: bus.kind })
  })
  if (bus.kind !== 'redis') return
  const watch = new BusWatch(bus, BUS_WATCH_INTERVAL_MS, {
    lost: (at) => { app.log.warn({ serverId, lostAt: new Date(at).toISOString() }, 'Redis lost: events are neither published nor received') },
    recovered: (lostAt, now) => {
      const times = { lostAt: new Date(lostAt).toISOString(), downMs: now - lostAt }
      security.report('system.redis.lost', { reason: 'unreachable', ...times })
      security.report('system.redis.recovered', { reason: 'reachable', ...times })
    }
  })
  app.addHook('onReady', async () => { watch.start() })
  app.addHook('onClose', async () => { watch.stop() })
}, { name: 'lifecycle', dependencies: ['config', 'bus', 'security'] })
