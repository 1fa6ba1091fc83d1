import fp from 'fastify-plugin'
import { REQUEST_ID_HEADER } from '../src/request-id.js'

/**
 * Every HTTP response names its request in X-Request-Id: the id its log lines carry as
 * `reqId` (`genReqId` in app.ts). The first onRequest hook, so a request refused by a later
 * one (an origin, a drain, a missing route) is named too.
 */
export default fp(async function requestIdPlugin (app) {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id)
    done()
  })
}, { name: 'request-id' })
