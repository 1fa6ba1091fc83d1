import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, rmSync } from 'node:fs'
import { writeHeapSnapshot } from 'node:v8'
import { WebSocket } from 'ws'
import { buildApp } from '../app.js'
import { loadConfig } from '../src/config.js'
import { BENCH_SECRET, benchToken } from '../bench/auth.js'
import { commandLine } from './command-line.js'

const USAGE = `What one idle, subscribed /ws/events connection keeps alive in a gateway.

Usage: npm run memory-probe -- [--connections <n>] [--cold] [--snapshot] [--redis <url>]

  --connections <n>  connections measured (default 5000)
  --cold             no warm-up: measure from the idle gateway, as \`npm run bench\` does
  --snapshot         also diff V8 heap snapshots taken before and after
  --redis <url>      REDIS_URL for the gateway (default: the embedded memory bus and store)
  -h, --help         this text

The gateway (buildApp, configured as the benchmark's) runs in a child process with --expose-gc;
this process opens the clients, one user each, subscribed to bench.*. RSS, heap and external
bytes after a full GC are compared with the same figures before the measured connections
opened. A warm-up of as many connections first pays for every one-time cost (compiled code,
caches, the young generation's growth), so what is left is what a connection keeps. The
snapshot diff lists objects by type and constructor, each with what retains it.`

/** The messages the parent and the gateway child exchange over the IPC channel. */
type Request = { measure: true, snapshot?: string }
interface Measurement { rss: number, heapUsed: number, external: number }

/** The gateway child is this script too, started with `--gateway <redis url>`. */
const [mode, redisArg] = process.argv.slice(2)
if (mode === '--gateway') await gateway(redisArg)
else await probe()

async function gateway (redisUrl: string | undefined): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  const app = await buildApp(loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    ...(redisUrl === undefined || redisUrl === '' ? {} : { REDIS_URL: redisUrl }),
    JWT_SECRET: BENCH_SECRET,
    // Nothing scrapes it, and it listens on the loopback only.
    METRICS_PUBLIC: 'true',
    LOG_LEVEL: 'warn',
    WEBSOCKET_MAX_CONNECTIONS: '100000',
    WEBSOCKET_MAX_CONNECTIONS_PER_USER: '100000',
    RATE_LIMIT_UPGRADES: '100000000',
    AUTH_FAILURE_LIMIT: '100000000'
  }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  process.on('message', (request: Request) => {
    // Twice: the first collection runs finalizers that free more on the second.
    gc()
    gc()
    if (request.snapshot !== undefined) writeHeapSnapshot(request.snapshot)
    const { rss, heapUsed, external } = process.memoryUsage()
    process.send?.({ rss, heapUsed, external } satisfies Measurement)
  })
  process.send?.({ port: address.port })
}

async function probe (): Promise<void> {
  const { values, integer, fail } = commandLine('memory-probe', USAGE, {
    connections: { type: 'string', default: '5000' },
    cold: { type: 'boolean', default: false },
    snapshot: { type: 'boolean', default: false },
    redis: { type: 'string', default: '' }
  })
  const n = integer('connections', 1)
  if (values.redis !== '' && !/^rediss?:\/\/./.test(values.redis)) fail('--redis must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
  const { snapshot } = values
  const child = fork(new URL(import.meta.url).pathname, ['--gateway', values.redis], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const [{ port }] = await once(child, 'message') as [{ port: number }]
  const url = `ws://127.0.0.1:${port}/ws/events`
  const clients: WebSocket[] = []
  const dir = process.env.TMPDIR ?? '/tmp'
  try {
    if (!values.cold) await open(url, n, clients, 0)
    const before = await measure(child, snapshot ? `${dir}/probe-before.heapsnapshot` : undefined)
    await open(url, n, clients, n)
    const after = await measure(child, snapshot ? `${dir}/probe-after.heapsnapshot` : undefined)
    const per = (key: keyof Measurement): number => Math.round((after[key] - before[key]) / n)
    console.log(`per connection over ${n}: rss ${per('rss')} B, heap ${per('heapUsed')} B, external ${per('external')} B`)
    if (snapshot) {
      report(summarise(`${dir}/probe-before.heapsnapshot`), summarise(`${dir}/probe-after.heapsnapshot`), n)
      rmSync(`${dir}/probe-before.heapsnapshot`)
      rmSync(`${dir}/probe-after.heapsnapshot`)
    }
  } finally {
    for (const ws of clients) ws.terminate()
    child.kill()
  }
}

async function measure (child: ChildProcess, snapshot: string | undefined): Promise<Measurement> {
  child.send({ measure: true, snapshot } satisfies Request)
  const [m] = await once(child, 'message') as [Measurement]
  return m
}

/** Opens `n` subscribed clients, 50 handshakes at a time, each a user of its own. */
async function open (url: string, n: number, clients: WebSocket[], offset: number): Promise<void> {
  let next = 0
  const one = async (): Promise<void> => {
    while (next < n) {
      const user = `u${offset + next++}`
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${benchToken(user)}` } })
      clients.push(ws)
      await new Promise<void>((resolve, reject) => {
        ws.on('error', reject)
        ws.on('message', (data) => {
          const { type } = JSON.parse(data.toString()) as { type: string }
          if (type === 'connected') ws.send(JSON.stringify({ type: 'subscribe', id: 's', payload: { eventTypes: ['bench.*'] } }))
          else if (type === 'subscribed') resolve()
          else reject(new Error(`unexpected ${type}`))
        })
      })
      ws.removeAllListeners('message')
    }
  }
  await Promise.all(Array.from({ length: 50 }, one))
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

type Totals = Map<string, { count: number, bytes: number }>

/**
 * Self sizes and counts by node type and constructor name, each with what first retains it
 * (its retainer's label and the edge's name), which tells a Context or an array whose it is.
 */
function summarise (file: string): Totals {
  const { snapshot, nodes, edges, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const { node_fields: fields, edge_fields: edgeFields } = snapshot.meta
  const types = snapshot.meta.node_types[0]
  const edgeTypes = snapshot.meta.edge_types[0]
  const [type, name, size, edgeCount] = ['type', 'name', 'self_size', 'edge_count'].map((f) => fields.indexOf(f)) as [number, number, number, number]
  const [edgeType, edgeName, toNode] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f)) as [number, number, number]
  const label = (at: number): string => {
    const kind = types[nodes[at + type] as number] as string
    return kind.endsWith('string') ? kind : `${kind} ${(strings[nodes[at + name] as number] ?? '').slice(0, 40)}`
  }
  const retainer = new Map<number, string>()
  let edge = 0
  for (let at = 0; at < nodes.length; at += fields.length) {
    const count = nodes[at + edgeCount] as number
    for (let e = 0; e < count; e++, edge += edgeFields.length) {
      const kind = edgeTypes[edges[edge + edgeType] as number] as string
      const to = edges[edge + toNode] as number
      if (kind === 'weak' || retainer.has(to)) continue
      const via = kind === 'element' || kind === 'hidden' ? `[${edges[edge + edgeName]}]` : String(strings[edges[edge + edgeName] as number] ?? '').slice(0, 30)
      retainer.set(to, `${label(at)}.${via}`)
    }
  }
  const totals: Totals = new Map()
  for (let at = 0; at < nodes.length; at += fields.length) {
    const key = `${label(at)}  <-  ${retainer.get(at) ?? '(root)'}`
    const entry = totals.get(key) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += nodes[at + size] as number
    totals.set(key, entry)
  }
  return totals
}

function report (before: Totals, after: Totals, n: number): void {
  const rows = [...after].map(([label, a]) => {
    const b = before.get(label) ?? { count: 0, bytes: 0 }
    return { label, count: (a.count - b.count) / n, bytes: (a.bytes - b.bytes) / n }
  }).filter((r) => Math.abs(r.bytes) >= 8).sort((x, y) => y.bytes - x.bytes)
  const total = rows.reduce((sum, r) => sum + r.bytes, 0)
  console.log(`heap snapshot, per connection: ${Math.round(total)} B`)
  for (const r of rows.slice(0, 60)) console.log(`${r.bytes.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(6)} × ${r.label}`)
}
