import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { BusUnavailableError } from '../src/bus/bus.js'
import { GatewayError, HttpError, type HttpErrorCode } from '../src/errors.js'
import { describeInvalid, type ValidationIssue } from '../src/validation-words.js'

/** Seconds a publisher should wait before retrying while the bus is unreachable. */
const BUS_RETRY_AFTER_SECONDS = 1

/**
 * The one error handler: every HTTP error leaves as
 * `{ statusCode, code, error, message, field? }` with a code from the catalogue.
 */
export default fp(async function errorsPlugin (app) {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error instanceof GatewayError) {
      if (error.code === 'EVENTGATE_BUS_UNAVAILABLE') void reply.header('retry-after', String(BUS_RETRY_AFTER_SECONDS))
      return send(reply, error.code, error.message, error.field)
    }
    if (error instanceof BusUnavailableError) {
      request.log.warn({ err: error }, 'publish refused: bus unavailable')
      void reply.header('retry-after', String(BUS_RETRY_AFTER_SECONDS))
      return send(reply, 'EVENTGATE_BUS_UNAVAILABLE', 'the event bus is unreachable; retry later')
    }
    if (error.validation !== undefined) {
      const { field, message } = describeInvalid(error.validation as ValidationIssue[])
      return send(reply, 'EVENTGATE_INVALID_BODY', message, field)
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, 'EVENTGATE_PAYLOAD_TOO_LARGE', 'request body is too large')
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, 'EVENTGATE_INVALID_BODY', error.message)
    }
    request.log.error({ err: error }, 'request failed')
    return send(reply, 'EVENTGATE_INTERNAL', 'internal error')
  })

  app.setNotFoundHandler(async (request, reply) =>
    send(reply, 'EVENTGATE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))
}, { name: 'errors' })

async function send (reply: FastifyReply, code: HttpErrorCode, message: string, field?: string): Promise<unknown> {
  const statusCode = HttpError[code]
  const body = { statusCode, code, error: STATUS_CODES[statusCode], message, ...(field === undefined ? {} : { field }) }
  return await reply.code(statusCode).send(body)
}
