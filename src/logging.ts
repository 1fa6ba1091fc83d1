import { hostname } from 'node:os'
import type { BaseLogger, LoggerOptions } from 'pino'
import { clip } from './security.js'

/**
 * Query parameters that carry credentials, or may (the `accessToken` cookie's name), lower-case
 * as `decodeName` compares them; their values never reach a log line.
 */
const SECRET_PARAMS: ReadonlySet<string> = new Set(['token', 'access_token', 'accesstoken', 'ticket'])

/**
 * Replaces the values of credential parameters with `[REDACTED]`, and the whole of any
 * fragment: browsers never send one, so what a hand-made client puts after `#` is nothing the
 * gateway reads, and may be a token (`#token=…`, `#access_token=…`, a bare JWT). Names are
 * compared after decoding, as the query parser sees them, so `%74oken=` is caught as well as
 * `token=`.
 */
export function redactUrl (url: string): string {
  const hash = url.indexOf('#')
  const target = hash === -1 ? url : url.slice(0, hash)
  const fragment = hash === -1 || hash === url.length - 1 ? url.slice(target.length) : '#[REDACTED]'
  const start = target.indexOf('?')
  if (start === -1) return target + fragment
  const query = target.slice(start + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq === -1 ? pair : pair.slice(0, eq)
    return SECRET_PARAMS.has(decodeName(name)) ? `${name}=[REDACTED]` : pair
  })
  return `${target.slice(0, start)}?${query.join('&')}${fragment}`
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
 * Every line names the instance (`serverId`, as in health, metrics and the registry), so the
 * lines of many instances gathered in one place can be told apart.
 */
export function loggerOptions (level: string, serverId: string): LoggerOptions {
  return {
    level,
    base: { pid: process.pid, hostname: hostname(), serverId },
    redact: {
      // A log object is anyone's to shape: a header copied to the top level (`{ authorization }`)
      // or one level down (`{ headers }`, `{ upgrade: { cookie } }`) is censored all the same.
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'authorization', '*.authorization', 'cookie', '*.cookie',
        'token', '*.token', 'ticket', '*.ticket', 'access_token', '*.access_token', 'accessToken', '*.accessToken'
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
