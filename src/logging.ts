import type { BaseLogger, LoggerOptions } from 'pino'
import { clip } from './security.js'

/** Query parameters that carry credentials; their values never reach a log line. */
const SECRET_PARAMS: ReadonlySet<string> = new Set(['token', 'access_token', 'ticket'])

/**
 * Replaces the values of credential parameters with `[REDACTED]`. Names are compared after
 * decoding, as the query parser sees them, so `%74oken=` is caught as well as `token=`.
 */
export function redactUrl (url: string): string {
  const start = url.indexOf('?')
  if (start === -1) return url
  const end = url.indexOf('#', start) === -1 ? url.length : url.indexOf('#', start)
  const query = url.slice(start + 1, end).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq === -1 ? pair : pair.slice(0, eq)
    return SECRET_PARAMS.has(decodeName(name)) ? `${name}=[REDACTED]` : pair
  })
  return `${url.slice(0, start)}?${query.join('&')}${url.slice(end)}`
}

function decodeName (name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase()
  } catch {
    return name.toLowerCase()
  }
}

interface LoggedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  ip?: string
}

/**
 * pino options for the gateway: request lines carry a redacted URL and no headers, and any
 * credential a log call might include by mistake is censored by path. The URL and the user
 * agent are anyone's to choose, so they are cut (`clip`): a flood of huge ones stays small.
 */
export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
        'token', '*.token', 'ticket', '*.ticket', 'access_token', '*.access_token'
      ],
      censor: '[REDACTED]'
    },
    serializers: {
      req (request: LoggedRequest) {
        const userAgent = request.headers['user-agent']
        return { method: request.method, url: clip(redactUrl(request.url)), ip: request.ip, userAgent: typeof userAgent === 'string' ? clip(userAgent) : userAgent }
      }
    }
  }
}

/** The logging calls the core makes; a Fastify logger and a pino logger both provide them. */
export interface Log extends Pick<BaseLogger, 'error' | 'warn' | 'info' | 'debug'> {
  child: (bindings: Record<string, unknown>) => Log
}
