import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { TEST_SECRET } from '../../harness/tokens.js'
import { withBuildLock } from '../../scripts/build-lock.js'
import { sourceFingerprint } from '../../scripts/source-fingerprint.js'
import { within } from '../helpers/within.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** A build on a loaded machine, then a start. */
const START_MS = 120_000

interface Start { child: ChildProcess, url: string, output: () => string }

/** `npm start` as the README runs it, in a process group of its own so the teardown stops npm, its shell and the gateway. */
async function npmStart (t: Test): Promise<Start> {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  const group = child.pid as number
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {}
    await exited
  })
  let output = ''
  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match !== null) resolve(match[1] as string)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => reject(new Error(`npm start exited with ${String(code)}:\n${output}`)))
  })
  const url = await within(listening, START_MS, 'npm start to listen')
  return { child, url, output: () => output }
}

/** The command lines of the processes in the process group `group`, from /proc. */
function processGroup (group: number): string[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
    try {
      // Fields after the command's name, which sits in parentheses and may hold spaces: state, ppid, pgrp.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      return pgrp === group ? [readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')] : []
    } catch {
      return []
    }
  })
}

t.test('npm start builds once, serves the dashboard and the SDK bundled by the build and runs no esbuild', async (t) => {
  // Without its fingerprint dist/ is stale: both starts want a build, one makes it.
  rmSync(join(ROOT, 'dist', '.sources'), { force: true })
  const [first, second] = await Promise.all([npmStart(t), npmStart(t)])
  const says = [first, second].map((start) => /build: (dist\/ built in [\d.]+ s|dist\/ is current)/.exec(start.output())?.[1] ?? '')
  t.equal(says.filter((line) => line.startsWith('dist/ built')).length, 1, 'one start built')
  t.equal(says.filter((line) => line === 'dist/ is current').length, 1, 'the other waited for it, then found dist/ current')

  const bundle = readFileSync(join(ROOT, 'dist', 'dashboard', 'app.js'))
  const sdk = readFileSync(join(ROOT, 'dist', 'browser', 'client.js'))
  for (const start of [first, second]) {
    const response = await fetch(`${start.url}/dashboard/app.js`)
    t.equal(response.status, 200)
    t.match(response.headers.get('content-type'), /^text\/javascript/)
    t.ok(Buffer.from(await response.arrayBuffer()).equals(bundle), 'the script is the one in dist/dashboard')
    const client = await fetch(`${start.url}/client.js`)
    t.ok(Buffer.from(await client.arrayBuffer()).equals(sdk), 'GET /client.js is the SDK bundled into dist/browser')
    const page = await fetch(`${start.url}/dashboard`)
    t.equal(page.status, 200)
    const processes = processGroup(start.child.pid as number)
    t.ok(processes.some((line) => line.includes('dist/server.js')), 'the gateway runs from dist/')
    t.same(processes.filter((line) => line.includes('esbuild')), [], 'no esbuild process beside the gateway')
  }
})

t.test('the build lock runs one build at a time', async (t) => {
  const lock = join(t.testdir(), 'dist.lock')
  const events: string[] = []
  let release = (): void => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let started = (): void => {}
  const first = withBuildLock(lock, async () => {
    events.push('first started')
    started()
    await held
    events.push('first ended')
  })
  await new Promise<void>((resolve) => { started = resolve })
  const second = withBuildLock(lock, async () => { events.push('second ran') })
  // One turn of the event loop: without the lock, the second build would have run by now.
  await new Promise((resolve) => setImmediate(resolve))
  release()
  await within(Promise.all([first, second]), 5000, 'both builds')
  t.same(events, ['first started', 'first ended', 'second ran'])
  t.throws(() => readFileSync(lock), { code: 'ENOENT' }, 'the lock is gone once both are done')
})

t.test('the build lock is released when the build fails, and taken over from a killed build', async (t) => {
  const lock = join(t.testdir(), 'dist.lock')
  await t.rejects(withBuildLock(lock, async () => { throw new Error('tsc failed') }), { message: 'tsc failed' })
  t.throws(() => readFileSync(lock), { code: 'ENOENT' })

  const gone = spawn(process.execPath, ['-e', ''])
  await new Promise((resolve) => gone.once('exit', resolve))
  writeFileSync(lock, String(gone.pid))
  t.equal(await within(withBuildLock(lock, async () => 'built'), 5000, 'the abandoned lock'), 'built')

  writeFileSync(lock, String(process.pid))
  await t.rejects(withBuildLock(lock, async () => 'built', 200), /timed out after 200 ms waiting for the build lock/, 'a live owner keeps it')
})

t.test('the fingerprint follows the sources\' contents, not their times', async (t) => {
  const root = t.testdir({ 'a.ts': 'one', src: { 'b.ts': 'two', deep: { 'c.ts': 'three' } } })
  const inputs = ['a.ts', 'src']
  const before = sourceFingerprint(root, inputs)
  utimesSync(join(root, 'src', 'deep', 'c.ts'), new Date(), new Date(0))
  t.equal(sourceFingerprint(root, inputs), before, 'an older or newer time alone changes nothing')
  writeFileSync(join(root, 'src', 'deep', 'c.ts'), 'three!')
  const edited = sourceFingerprint(root, inputs)
  t.not(edited, before, 'an edit')
  writeFileSync(join(root, 'src', 'd.ts'), '')
  t.not(sourceFingerprint(root, inputs), edited, 'a new file, empty too')
  rmSync(join(root, 'src', 'd.ts'))
  t.equal(sourceFingerprint(root, inputs), edited, 'removed again')
})
