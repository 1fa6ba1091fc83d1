import { readFileSync } from 'node:fs'
import t from 'tap'
import { EnvSchema } from '../../src/config.js'

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const variables = new Set(Object.keys(EnvSchema.properties))
const SHUTDOWN_TIMEOUT_DEFAULT = EnvSchema.properties.SHUTDOWN_TIMEOUT.default

/** What the gateway answers probes on: readiness (and its older name) and liveness. */
const PROBE_ROUTES = ['/readyz', '/livez', '/ws/health']

/** `Key=Value` lines of a systemd unit, comments and section headers left out. */
function unitSettings (text: string): Array<[string, string]> {
  return text.split('\n').flatMap((line) => {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line)
    return match === null ? [] : [[match[1] ?? '', match[2] ?? '']]
  })
}

/** The lines below `key:` indented deeper than it: the block a YAML key holds, in this file's layout. */
function block (lines: string[], key: string): string[] {
  const start = lines.findIndex((line) => new RegExp(`^\\s*${key}:\\s*$`).test(line))
  if (start === -1) return []
  const indent = (line: string): number => line.length - line.trimStart().length
  const depth = indent(lines[start] ?? '')
  const end = lines.findIndex((line, i) => i > start && line.trim() !== '' && indent(line) <= depth)
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

/** The value of the first `key: value` among `lines`, unquoted. */
function scalar (lines: string[], key: string): string | undefined {
  for (const line of lines) {
    const match = new RegExp(`^\\s*(?:- )?${key}: "?([^"]*?)"?\\s*$`).exec(line)
    if (match !== null) return match[1]
  }
  return undefined
}

t.test('the systemd unit runs the built server, restarts on failure and leaves the shutdown its time', async (t) => {
  const settings = unitSettings(read('deploy/systemd/eventgate.service'))
  const value = (key: string): string | undefined => settings.find(([k]) => k === key)?.[1]
  t.match(value('ExecStart'), /^\S*node dist\/server\.js$/)
  t.equal(value('Restart'), 'on-failure')
  t.equal(value('KillSignal'), 'SIGTERM')
  t.ok(value('EnvironmentFile'), 'secrets come from a file')

  const environment = new Map(settings.filter(([k]) => k === 'Environment').map(([, v]) => v.replace(/^"|"$/g, '').split('=') as [string, string]))
  t.ok(environment.size > 0)
  for (const name of environment.keys()) t.ok(variables.has(name), `${name} is a variable the gateway reads`)

  const stopMs = Number(/^(\d+)s?$/.exec(value('TimeoutStopSec') ?? '')?.[1]) * 1000
  const shutdownMs = Number(environment.get('SHUTDOWN_TIMEOUT') ?? SHUTDOWN_TIMEOUT_DEFAULT)
  t.ok(stopMs >= SHUTDOWN_TIMEOUT_DEFAULT, `TimeoutStopSec (${stopMs} ms) covers the SHUTDOWN_TIMEOUT default`)
  t.ok(stopMs > shutdownMs, `TimeoutStopSec (${stopMs} ms) exceeds the unit's SHUTDOWN_TIMEOUT (${shutdownMs} ms)`)
})

t.test('the Kubernetes sample: probes on the probe routes, known variables, a grace that covers the shutdown', async (t) => {
  const text = read('deploy/kubernetes/eventgate.yaml')
  const lines = text.split('\n')
  t.match(text, /^kind: Deployment$/m)
  t.match(text, /^kind: Service$/m)
  t.match(text, /^\s+command: \["node", "dist\/server\.js"\]$/m)

  const readiness = scalar(block(lines, 'readinessProbe'), 'path')
  const liveness = scalar(block(lines, 'livenessProbe'), 'path')
  t.ok(PROBE_ROUTES.includes(readiness ?? ''), `readiness on ${readiness}`)
  t.ok(PROBE_ROUTES.includes(liveness ?? ''), `liveness on ${liveness}`)

  const env = block(lines, 'env')
  const names = env.flatMap((line) => /^\s*- name: (\S+)\s*$/.exec(line)?.[1] ?? [])
  t.ok(names.length > 0)
  for (const name of names) t.ok(variables.has(name), `${name} is a variable the gateway reads`)
  const valueOf = (name: string): string | undefined => {
    const at = env.findIndex((line) => line.trim() === `- name: ${name}`)
    return at === -1 ? undefined : scalar(env.slice(at + 1, at + 2), 'value')
  }
  t.equal(valueOf('PORT'), scalar(lines, 'containerPort'), 'PORT is the container port')

  const graceMs = Number(scalar(lines, 'terminationGracePeriodSeconds')) * 1000
  const preStopMs = Number(scalar(block(lines, 'preStop'), 'seconds') ?? 0) * 1000
  const shutdownMs = Number(valueOf('SHUTDOWN_TIMEOUT') ?? SHUTDOWN_TIMEOUT_DEFAULT)
  t.ok(preStopMs > 0, 'a preStop sleep lets the endpoints drop the pod before SIGTERM')
  t.ok(graceMs >= SHUTDOWN_TIMEOUT_DEFAULT, `terminationGracePeriodSeconds (${graceMs} ms) covers the SHUTDOWN_TIMEOUT default`)
  t.ok(graceMs > preStopMs + shutdownMs, `the grace (${graceMs} ms) exceeds preStop (${preStopMs} ms) and SHUTDOWN_TIMEOUT (${shutdownMs} ms)`)
})
