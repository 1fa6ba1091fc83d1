import { setTimeout as delay } from 'node:timers/promises'
import { commandLine, envValue } from './command-line.js'
import { signToken } from './sign-token.js'

const HELP = `Publish events to eventgate over HTTP (POST /events).

Usage: npm run publish-event -- --type <type> [options]

  --type <type>     event type, e.g. authentication.login.success (required)
  --user <id>       the user it is addressed to (default: a broadcast to every user stream);
                    --sub <id> is the same
  --session <id>    session id
  --data <json>     the event's data, a JSON object (default {})
  --url <url>       the gateway (default http://127.0.0.1:$PORT, PORT defaulting to 3000)
  --token <jwt>     a token that may publish (role service or admin, or permission
                    events:publish); default: a service token signed with JWT_SECRET, or
                    with the development key when it is unset or empty
  --count <n>       events to publish, one request each (default 1, at most 1000000)
  --rate <n>        events per second (default: each as soon as the previous one is answered)
  -h, --help        this text

Prints the id of each accepted event on a line of its own, and a summary on stderr. Exits 1 at
the first event the gateway refuses, printing its answer.`

const { values, fail, integer, either } = commandLine('publish-event', HELP, {
  type: { type: 'string' },
  user: { type: 'string' },
  sub: { type: 'string' },
  session: { type: 'string' },
  data: { type: 'string', default: '{}' },
  url: { type: 'string' },
  token: { type: 'string' },
  count: { type: 'string', default: '1' },
  rate: { type: 'string' }
})

const type = values.type ?? fail('--type is required')
const user = either('user', 'sub')
const count = integer('count', 1, 1_000_000)
const rate = values.rate === undefined ? undefined : Number(values.rate)
if (rate !== undefined && !(rate > 0)) fail('--rate must be a positive number of events per second')
const data = parseData(values.data)
const url = `${(values.url ?? defaultUrl()).replace(/\/+$/, '')}/events`
const bearer = values.token ?? signToken({ sub: 'publish-event', roles: ['service'], ttl: 3600 })
const body = JSON.stringify({
  type,
  ...(user === undefined ? {} : { userId: user }),
  ...(values.session === undefined ? {} : { sessionId: values.session }),
  data
})

/** The gateway `npm start` runs in this environment: on loopback, at PORT. */
function defaultUrl (): string {
  const port = envValue('PORT') ?? '3000'
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) fail(`PORT must be a port number from 1 to 65535, e.g. 3000 (got "${port}"), or give --url`)
  return `http://127.0.0.1:${port}`
}

function parseData (text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    fail('--data must be JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('--data must be a JSON object')
  return value as Record<string, unknown>
}

const started = performance.now()
for (let i = 0; i < count; i++) {
  // On a schedule from the start, so a slow answer does not lower the rate of the ones after it.
  if (rate !== undefined) await delay(Math.max(0, started + i * 1000 / rate - performance.now()))
  let response: Response
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body })
  } catch (err) {
    process.stderr.write(`publish-event: ${url}: ${(err as Error).cause === undefined ? (err as Error).message : String((err as Error).cause)}\n`)
    process.exit(1)
  }
  const answer = await response.text()
  if (response.status !== 202) {
    process.stderr.write(`publish-event: event ${i + 1} refused: ${response.status} ${answer}\n`)
    process.exit(1)
  }
  const { ids } = JSON.parse(answer) as { ids: string[] }
  process.stdout.write(`${ids.join('\n')}\n`)
}
const seconds = (performance.now() - started) / 1000
process.stderr.write(`published ${count} ${type} event${count === 1 ? '' : 's'} to ${url} in ${seconds.toFixed(2)} s (${(count / seconds).toFixed(1)}/s)\n`)
