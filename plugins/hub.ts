import fp from 'fastify-plugin'
import type { BusMessage } from '../src/bus/bus.js'
import { Hub } from '../src/hub.js'
import { ConnectionSlots } from '../src/slots.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub
    /** MAX_CONNECTIONS_PER_USER's slots in the shared store; the heartbeat refreshes those of open sockets. */
    slots: ConnectionSlots
    /** Runs `listener` once per event from the bus, after the hub handed it to this instance's sockets. */
    afterDelivery: (listener: (message: BusMessage) => void) => void
  }
}

/** The hub fed by the bus, and the timers that keep its sockets and their slots alive. */
export default fp(async function hubPlugin (app) {
  const { config } = app
  const hub = new Hub({ maxBufferedBytes: config.maxBufferedBytes, seal: app.messageSigning?.seal, partitioning: app.bus.partitioning })
  app.decorate('hub', hub)
  const delivered: Array<(message: BusMessage) => void> = []
  app.decorate('afterDelivery', (listener: (message: BusMessage) => void) => { delivered.push(listener) })
  await app.bus.subscribe((message) => {
    hub.deliver(message)
    for (const listener of delivered) listener(message)
  })

  // A slot outlives two heartbeats; each heartbeat refreshes the slots of the sockets still here.
  // RATE_LIMIT_UPGRADES per minute, counted with the slot an upgrade takes (plugins/sockets.ts).
  const budget = { max: config.rateLimits.upgradesPerMinute, windowMs: 60_000 }
  const slots = new ConnectionSlots(app.store, config.maxConnectionsPerUser, 2 * config.heartbeatIntervalMs, (userId) => hub.connectionsOf(userId), app.log.child({ component: 'slots' }), budget)
  app.decorate('slots', slots)
  const heartbeat = setInterval(() => {
    hub.heartbeat()
    slots.refresh(hub.each())
  }, config.heartbeatIntervalMs)
  heartbeat.unref()
  const cleanup = setInterval(() => { hub.sweep() }, config.cleanupIntervalMs)
  cleanup.unref()
  app.addHook('onClose', async () => {
    clearInterval(heartbeat)
    clearInterval(cleanup)
  })
}, { name: 'hub', dependencies: ['message-signing', 'config', 'bus', 'store'] })
