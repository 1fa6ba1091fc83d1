import { spawn } from 'node:child_process'
import t from 'tap'

const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }

/** Runs `server.ts` as `npm start` would, until it exits or has printed `until`. */
async function run (env: Record<string, string>, until?: RegExp): Promise<{ code: number | null, output: string, stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no exit and no match within 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (until?.test(output) === true) {
        clearTimeout(timer)
        resolve({ code: null, output, stop: async () => { child.kill('SIGTERM'); return await exited } })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      resolve({ code, output, stop: async () => code })
    })
  })
}

t.test('production refuses to start without a JWT key', async (t) => {
  const { code, output } = await run({ NODE_ENV: 'production', PORT: '0' })
  t.equal(code, 1)
  t.match(output, /invalid configuration: JWT_SECRET: a JWT key is required when NODE_ENV=production/)
})

t.test('production refuses to start with GET /metrics open unless METRICS_PUBLIC=true says so', async (t) => {
  const production = { NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: 'a-secret-that-is-long-enough-for-hs256-0123456789' }
  const refused = await run(production)
  t.equal(refused.code, 1)
  t.match(refused.output, /invalid configuration: METRICS_TOKEN: is required when NODE_ENV=production/)
  const open = await run({ ...production, METRICS_PUBLIC: 'true' }, /Server listening at http:\/\/127\.0\.0\.1:\d+/)
  t.equal(await open.stop(), 0, 'it starts, and stops cleanly')
})

t.test('a bad value stops the start with a message naming the variable', async (t) => {
  const { code, output } = await run({ PORT: 'eighty' })
  t.equal(code, 1)
  t.match(output, /invalid configuration: PORT: /)
})

t.test('development starts on the development key, says so in its start-up line, and stops cleanly on SIGTERM', async (t) => {
  const started = await run({ PORT: '0', LOG_LEVEL: 'info' }, /"msg":"eventgate listening/)
  t.match(started.output, /using the public development key; mint tokens with `npm run token`/)
  const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(started.output)?.[1]
  const url = `http://127.0.0.1:${port ?? ''}`
  t.match(started.output, `"msg":"eventgate listening at ${url}, on the in-memory bus (this instance alone: no other instance sees its events, and its history ends with the process); dashboard ${url}/dashboard, API docs ${url}/docs. WARNING: no JWT_SECRET or JWT_PUBLIC_KEY, tokens are checked against the public development key`, 'the start-up line, with the warning')
  t.equal(await started.stop(), 0)
})
