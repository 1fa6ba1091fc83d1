import type { IncomingMessage, ServerResponse } from 'node:http'

/** An event as the baseline servers carry it: the body published, plus an id and a timestamp. */
export interface BenchEvent {
  id: string
  type: string
  userId?: string
  data: Record<string, unknown>
  timestamp: string
}

export function namespaceOf (type: string): string {
  const dot = type.indexOf('.')
  return dot === -1 ? type : type.slice(0, dot)
}

/** Answers a publish with its status and no body: all the load generator reads. */
export function end (response: ServerResponse, status: number): void {
  response.statusCode = status
  response.end()
}

/** The events of a publish body: one, or a batch as eventgate takes it (`{"events":[…]}`). */
export function inputsOf (body: string): Array<Omit<BenchEvent, 'id' | 'timestamp'>> {
  const parsed = JSON.parse(body) as Omit<BenchEvent, 'id' | 'timestamp'> | { events: Array<Omit<BenchEvent, 'id' | 'timestamp'>> }
  return 'events' in parsed ? parsed.events : [parsed]
}

export async function readBody (request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Microseconds since the epoch, comparable across the threads of one process. */
export function nowMicros (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/**
 * What each published event carries in `data`: its sequence number, the publisher's clock when
 * it was sent, and a few realistic fields. `seq` and `t` come first and are integers, so a
 * receiver reads them from the frame's bytes without parsing it, whatever the contender wraps
 * around the event.
 */
export function eventData (seq: number): string {
  return `{"seq":${seq},"t":${nowMicros()},"ip":"203.0.113.7","method":"password","userAgent":"bench/1.0 (X11; Linux x86_64)"}`
}

const SEQ = Buffer.from('"seq":')
const T = Buffer.from(',"t":')

/** The `seq` and `t` of an event frame, or undefined for any other frame. Reuses `out`. */
export function scanEvent (frame: Buffer, out: { seq: number, t: number }): boolean {
  const at = frame.indexOf(SEQ)
  if (at === -1) return false
  let i = at + SEQ.length
  let seq = 0
  for (let c = frame[i]; c !== undefined && c >= 48 && c <= 57; c = frame[++i]) seq = seq * 10 + c - 48
  if (frame.compare(T, 0, T.length, i, i + T.length) !== 0) return false
  i += T.length
  let t = 0
  for (let c = frame[i]; c !== undefined && c >= 48 && c <= 57; c = frame[++i]) t = t * 10 + c - 48
  out.seq = seq
  out.t = t
  return true
}
