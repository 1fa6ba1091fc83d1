import fp from 'fastify-plugin'
import { CloseCode } from '../src/errors.js'
import { shutDown } from '../src/shutdown.js'

/**
 * The one owner of the shutdown sequence (src/shutdown.ts), run when `app.close()` begins:
 * SIGTERM and SIGINT in server.ts, the tests' teardown. Each step comes from the plugin that
 * owns what it touches. Resources are released afterwards by their own plugins' onClose hooks.
 */
export default fp(async function shutdownPlugin (app) {
  const { hub, openSockets, config } = app
  // A preClose hook, and before @fastify/websocket's (the websocket plugin depends on this
  // one): that one closes whatever sockets are left without a code, and clients would get 1005.
  app.addHook('preClose', async () => {
    await shutDown({
      drain: () => {
        app.startDraining()
        app.security.report('system.instance.draining', { reason: 'shutting_down', connections: hub.size })
      },
      closeSockets: async () => {
        app.log.info({ connections: hub.size }, 'closing every socket 1001 server_shutting_down')
        const closed = openSockets.allClosed()
        app.closePendingSockets(CloseCode.GOING_AWAY, 'server_shutting_down')
        hub.closeAll(CloseCode.GOING_AWAY, 'server_shutting_down')
        await closed
      },
      terminate: () => {
        app.log.warn({ connections: openSockets.size }, 'sockets did not answer the close in time, terminating')
        openSockets.terminate()
      },
      deregister: app.deregister
    }, config.shutdownTimeoutMs)
  })
}, { name: 'shutdown', dependencies: ['config', 'drain', 'hub', 'sockets', 'upgrades', 'registry', 'security'] })
