import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../app.js'
import type { Teardown } from '../../harness/teardown.js'
import { TEST_SECRET } from '../../harness/tokens.js'
import { loadConfig } from '../../src/config.js'

export interface Gateway {
  app: FastifyInstance
  /** http://127.0.0.1:PORT (https:// when started with TLS_CERT/TLS_KEY) */
  url: string
  /** ws://127.0.0.1:PORT (wss://) */
  wsUrl: string
  /** Every log line written so far, when started with `captureLogs`. */
  logs: string[]
  close: () => Promise<void>
}

/** A real gateway on 127.0.0.1 and port 0, closed when the test ends. */
export async function startGateway (t: Teardown, env: Record<string, string> = {}, options: { captureLogs?: boolean } = {}): Promise<Gateway> {
  const logs: string[] = []
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, ...(options.captureLogs === true ? { LOG_LEVEL: 'debug' } : {}), ...env })
  const logStream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter((l) => l !== ''))
      done()
    }
  })
  const app = await buildApp(config, options.captureLogs === true ? { logStream } : {})
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await app.close()
  }
  t.teardown(close)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('gateway has no address')
  const secure = config.tls === undefined ? '' : 's'
  return { app, url: `http${secure}://127.0.0.1:${address.port}`, wsUrl: `ws${secure}://127.0.0.1:${address.port}`, logs, close }
}

/** POSTs JSON with a bearer token and returns status, headers and parsed body. */
export async function post (url: string, body: unknown, bearer?: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> }
}

export async function get (url: string, bearer?: string) {
  const response = await fetch(url, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } })
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> }
}
