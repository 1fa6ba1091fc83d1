import fp from 'fastify-plugin'
import { MessageSigning } from '../src/message-signing.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** MESSAGE_SIGNING_SECRET's sealing and checking of frames; undefined when it is unset. */
    messageSigning: MessageSigning | undefined
  }
}

/** Signed frames, with nonces remembered in the shared store so every instance refuses a replay. */
export default fp(async function messageSigningPlugin (app) {
  const { signingSecret } = app.config
  app.decorate('messageSigning', signingSecret === undefined ? undefined : new MessageSigning(signingSecret, app.store))
}, { name: 'message-signing', dependencies: ['config', 'store'] })
