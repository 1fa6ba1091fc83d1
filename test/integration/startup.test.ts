import t from 'tap'
import { RedisServer } from '../../harness/redis.js'
import { startGateway } from '../helpers/gateway.js'

interface Line { level: number, msg: string, url?: string, bus?: string, dashboard?: string, docs?: string, serverId?: string }

const startupLines = (logs: string[]): Line[] => logs.map((l) => JSON.parse(l) as Line).filter((l) => l.msg.startsWith('eventgate listening'))

t.test('once listening, one line names the URL, the bus, the dashboard and the docs, which answer there', async (t) => {
  const gw = await startGateway(t, { SERVER_ID: 'eg-start' }, { captureLogs: true })
  const lines = startupLines(gw.logs)
  t.equal(lines.length, 1)
  const [line] = lines
  t.match(line, { level: 30, serverId: 'eg-start', url: gw.url, bus: 'memory', dashboard: `${gw.url}/dashboard`, docs: `${gw.url}/docs` })
  t.match(line?.msg, `eventgate listening at ${gw.url}, on the in-memory bus`)
  t.notMatch(line?.msg, /WARNING/, 'a configured key is not called out')
  for (const page of [line?.dashboard, line?.docs]) t.equal((await fetch(page ?? '')).status, 200, String(page))
})

t.test('on Redis the line names it; with the development key it is a warning that says so', async (t) => {
  const redis = await RedisServer.start(t)
  const gw = await startGateway(t, { REDIS_URL: redis.url, JWT_SECRET: '' }, { captureLogs: true })
  const [line] = startupLines(gw.logs)
  t.match(line, { level: 40, bus: 'redis' })
  t.match(line?.msg, `, on Redis at ${new URL(redis.url).host};`)
  t.match(line?.msg, /WARNING: no JWT_SECRET or JWT_PUBLIC_KEY, tokens are checked against the public development key/)
})
