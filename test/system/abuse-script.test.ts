import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { within } from '../helpers/within.js'

/** Every row of the table, in the order printed: one per limit. */
const ATTACKS = [
  '1 resume flood', '2 stalled uploads', '3 idle sockets', '4 history eviction', '5 third-party lockout',
  '5 forged reauthenticate', '6 post-close flood', '6 oversized subscribe', '7 token in URL fragment',
  '7 cookie-only publish', '7 metrics without token', '7 concurrent upgrades', '7 idempotency collision',
  '7 deeply nested data', '8 revocation during outage'
]
/** A quick run takes about a minute on two idle cores; the suite's own tests load them too. */
const QUICK_RUN_MS = 180_000

interface Run { code: number | null, stdout: string, stderr: string }

async function abuse (args: string[], timeoutMs: number): Promise<Run> {
  const child = spawn('npm', ['run', '-s', 'abuse', '--', ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), timeoutMs, `npm run abuse -- ${args.join(' ')}`)
    .finally(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { code, stdout, stderr }
}

async function listening (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** The table's rows, split into cells. */
function rows (stdout: string): string[][] {
  return stdout.split('\n').filter((line) => /^\| \d /.test(line)).map((line) => line.slice(2, -2).split(' | '))
}

/** The ports of the redis-server and instances a run started, from its progress lines. */
function ports (stderr: string): number[] {
  const line = /quick run: redis redis:\/\/127\.0\.0\.1:(\d+), instances A :(\d+), B :(\d+)/.exec(stderr)
  return line === null ? [] : line.slice(1).map(Number)
}

t.test('--help prints the usage, exit 0', async (t) => {
  const { code, stdout } = await abuse(['--help'], 30_000)
  t.equal(code, 0)
  t.match(stdout, 'Usage: npm run abuse -- ')
})

t.test('a quick run attacks two production instances: every limit holds, each row says what the instances spent, exit 0', async (t) => {
  const { code, stdout, stderr } = await abuse(['--quick'], QUICK_RUN_MS)
  const table = rows(stdout)
  t.same(table.map((cells) => cells[0]), ATTACKS, `one row per attack, in order:\n${stdout}\n${stderr.slice(-4000)}`)
  for (const [attack, limit, held, observed, memory, cpu, legit] of table) {
    t.ok((limit ?? '').length > 0 && (observed ?? '').length > 0, `${attack ?? ''}: states its limit and what it saw`)
    t.match(held, /^(yes|NO)$/, `${attack ?? ''}: held`)
    t.match(memory, /^-?\d+$/, `${attack ?? ''}: peak RSS growth in MB`)
    t.match(cpu, /^\d+\.\d$/, `${attack ?? ''}: CPU seconds`)
    t.match(legit, /health p99 \d+ ms.*; \d+\/[1-9]\d* delivered, publish p99 \d+ ms$/, `${attack ?? ''}: the control traffic ran`)
  }
  const failed = table.filter((cells) => cells[2] !== 'yes' || (cells[6] ?? '').startsWith('LOST'))
  t.same(failed, [], 'every limit held, and the legitimate traffic with it')
  t.equal(code, 0, 'exit 0')
  t.match(stdout, new RegExp(`\\d+ of ${ATTACKS.length} limits held; legitimate traffic (intact|hurt during \\d+ attack\\(s\\)); \\d+ s`))
  const started = ports(stderr)
  t.equal(started.length, 3, 'says where Redis and the instances listened')
  for (const port of started) t.notOk(await listening(port), `nothing is left listening on ${port}`)
})

t.test('--write records the table and the figures; --only runs the checks it names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eventgate-abuse-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { code, stdout } = await abuse(['--quick', '--only', 'deeply nested', '--write', '--results', dir], 60_000)
  t.same(rows(stdout).map((cells) => cells[0]), ['7 deeply nested data'])
  const markdown = readFileSync(join(dir, 'latest.md'), 'utf8')
  t.match(markdown, /^# Abuse suite: latest run\n\n`npm run abuse -- --quick` on commit \w+/)
  const printed = stdout.split('\n').find((line) => line.startsWith('| 7 deeply nested data |'))
  t.ok(printed !== undefined && markdown.includes(printed), 'the markdown holds the printed row')
  const json = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { rows: Array<{ attack: string, held: boolean, spent: { cpuSeconds: Record<string, number> } }> }
  t.equal(json.rows.length, 1)
  t.same(Object.keys(json.rows[0]?.spent.cpuSeconds ?? {}).sort(), ['abuse-a', 'abuse-b'], 'CPU per instance')
  t.equal(code, json.rows[0]?.held === true ? 0 : 1)

  const none = await abuse(['--only', 'no such attack'], 30_000)
  t.equal(none.code, 2, 'a filter that matches nothing is an error, not an empty success')
})
