import { connect } from 'node:net'
import type { Teardown } from '../../harness/teardown.js'

/** One command Redis ran, as MONITOR reports it: its arguments and where it came from (`lua` for a script's). */
export interface Monitored {
  args: string[]
  source: string
}

/**
 * Every command Redis runs from now on, read over a plain socket in MONITOR mode: ioredis's own
 * monitor mode can take a script's lines (`[0 lua]`) for replies out of order and fail with
 * "Command queue state error". Resolves once Redis has switched the socket to MONITOR.
 */
export async function monitor (t: Teardown, port: number, seen: (command: Monitored) => void): Promise<void> {
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  let buffered = ''
  let started: () => void = () => {}
  const ready = new Promise<void>((resolve) => { started = resolve })
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffered += chunk
    for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
      const line = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      if (line === '+OK') started()
      const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line)
      if (match !== null) seen({ source: match[1] as string, args: [...(match[2] as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string) })
    }
  })
  socket.write('MONITOR\r\n')
  await ready
}
