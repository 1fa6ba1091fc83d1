import { Agent, type ClientRequest, request } from 'node:http'
import { parentPort } from 'node:worker_threads'
import { eventData } from './wire.js'

/** One paced run of the publisher: the load generator's main thread asks, this thread publishes. */
export interface PublishJob {
  /** Full URLs of the publish endpoint of each instance, used in turn as a load balancer would. */
  targets: string[]
  token: string
  /** Events started per second, for `durationMs`. */
  rate: number
  durationMs: number
  firstSeq: number
  type: string
  /** Events go to `u<base + seq % count>` in turn; none: events without a user. */
  users?: { base: number, count: number }
  /** Events whose seq is a multiple of `every` go without a user, as `type`. */
  broadcast?: { every: number, type: string }
  /** Events per request (`{"events":[…]}`), consecutive seqs; none: one event per request. */
  batch?: number
}

export interface PublishResult {
  started: number
  accepted: number
  /** Requests sent again after the server closed a kept-alive connection under them. */
  retried: number
  /** Events the server answered with another status than 202: the contender refused them. */
  refused: number[]
  /** Events whose request failed on the network even after retries: nobody knows if they left. */
  unsent: number[]
  /** Last status or error of a refused or unsent event. */
  failure: string | undefined
  /** Start of the first request and end of the last answer, in ms on this thread's clock. */
  elapsedMs: number
  /** Whether MAX_IN_FLIGHT requests were ever pending at once: the servers did not keep up. */
  saturated: boolean
  /** Of each request answered 202, from its start to the end of its answer, in ms. */
  requestMs: number[]
}

/**
 * Requests waiting for an answer at most; past it the publisher falls behind rather than queue
 * without end, and says so (`saturated`).
 */
const MAX_IN_FLIGHT = 512
const TICK_MS = 2
/**
 * A request on a reused keep-alive socket can meet the server's close of it: it was never read,
 * and Node's documentation recommends sending it again. Twice at most, so a server that really
 * resets every connection still shows up as unsent events.
 */
const RETRIES = 2
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE'])

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

async function run (job: PublishJob): Promise<PublishResult> {
  const result: PublishResult = { started: 0, accepted: 0, retried: 0, refused: [], unsent: [], failure: undefined, elapsedMs: 0, saturated: false, requestMs: [] }
  const total = Math.round(job.rate * job.durationMs / 1000)
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${job.token}` }
  let inFlight = 0
  let requests = 0
  const start = performance.now()
  return await new Promise((resolve) => {
    const finish = (): void => {
      if (result.started < total || inFlight > 0) return
      result.elapsedMs = performance.now() - start
      resolve(result)
    }
    const settled = (): void => {
      inFlight--
      finish()
    }
    const send = (target: string, seqs: number[], body: string, attempt: number): void => {
      const started = performance.now()
      const req: ClientRequest = request(target, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.resume()
        response.once('end', () => {
          if (response.statusCode === 202) {
            result.accepted += seqs.length
            result.requestMs.push(performance.now() - started)
          } else {
            result.refused.push(...seqs)
            result.failure = `HTTP ${String(response.statusCode)}`
          }
          settled()
        })
      })
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && RETRYABLE.has(err.code ?? '') && attempt < RETRIES) {
          result.retried++
          send(target, seqs, body, attempt + 1)
          return
        }
        result.unsent.push(...seqs)
        result.failure = err.message
        settled()
      })
      req.end(body)
    }
    const eventJson = (seq: number): string => {
      const { broadcast } = job
      const toAll = broadcast !== undefined && seq % broadcast.every === 0
      const user = job.users === undefined || toAll ? '' : `"userId":"u${job.users.base + seq % job.users.count}",`
      return `{"type":"${toAll ? broadcast.type : job.type}",${user}"data":${eventData(seq)}}`
    }
    const publishOne = (): void => {
      const size = Math.min(job.batch ?? 1, total - result.started)
      const seqs = Array.from({ length: size }, (_, k) => job.firstSeq + result.started + k)
      const target = job.targets[requests++ % job.targets.length] as string
      result.started += size
      inFlight++
      send(target, seqs, job.batch === undefined ? eventJson(seqs[0] as number) : `{"events":[${seqs.map(eventJson).join(',')}]}`, 0)
    }
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) * job.rate / 1000) + 1)
      while (result.started < due) {
        if (inFlight >= MAX_IN_FLIGHT) {
          result.saturated = true
          return
        }
        publishOne()
      }
      if (result.started >= total) {
        clearInterval(timer)
        finish()
      }
    }, TICK_MS)
  })
}

parentPort?.on('message', (job: PublishJob) => {
  void run(job).then((result) => parentPort?.postMessage(result))
})
