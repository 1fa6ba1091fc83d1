import websocket from '@fastify/websocket'
import fp from 'fastify-plugin'

export default fp(async function websocketPlugin (app) {
  await app.register(websocket, {
    errorHandler (err, socket, request) {
      // A WS_ERR_* is the client breaking the protocol: ws has already sent the close frame
      // with its code (1009 too big, 1007 not UTF-8, 1002 bad frame) and the session logs it
      // at warn. The default handler would log it as our error and terminate() the socket,
      // which can cut that close frame off.
      const { code } = err as { code?: unknown }
      if (typeof code === 'string' && code.startsWith('WS_ERR_')) return
      request.log.error({ err }, 'websocket handler failed')
      socket.terminate()
    },
    options: {
      // WEBSOCKET_MAX_PAYLOAD: ws closes a socket that sends a larger frame with 1009 (message too big)
      // before buffering it whole, so one client cannot make the gateway hold megabytes.
      maxPayload: app.config.maxPayloadBytes,
      // Events are small JSON frames sent to many sockets; compression would cost CPU per socket.
      perMessageDeflate: false
    }
  })
  // After the hub: its preClose hook must run before this plugin's, which closes sockets
  // without a code; the hub closes them with 1001 first.
}, { name: 'websocket', dependencies: ['config', 'hub'] })
