import { Agent, request } from 'node:http'
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
  /** Events go to `u<userBase + seq % users>` in turn; none: events without a user. */
  users?: { base: number, count: number }
}

export interface PublishResult {
  started: number
  accepted: number
  failed: number
  /** Last status or error of a failed request. */
  failure: string | undefined
  /** Start of the first request and end of the last answer, in ms on this thread's clock. */
  elapsedMs: number
  /** Whether MAX_IN_FLIGHT requests were ever pending at once: the servers did not keep up. */
  saturated: boolean
}

/**
 * Requests waiting for an answer at most; past it the publisher falls behind rather than queue
 * without end, and says so (`saturated`).
 */
const MAX_IN_FLIGHT = 512
const TICK_MS = 2

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

async function run (job: PublishJob): Promise<PublishResult> {
  const result: PublishResult = { started: 0, accepted: 0, failed: 0, failure: undefined, elapsedMs: 0, saturated: false }
  const total = Math.round(job.rate * job.durationMs / 1000)
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${job.token}` }
  let inFlight = 0
  const start = performance.now()
  return await new Promise((resolve) => {
    const finish = (): void => {
      if (result.started < total || inFlight > 0) return
      result.elapsedMs = performance.now() - start
      resolve(result)
    }
    const publishOne = (): void => {
      const seq = job.firstSeq + result.started
      const target = job.targets[result.started % job.targets.length] as string
      result.started++
      inFlight++
      const user = job.users === undefined ? '' : `"userId":"u${job.users.base + seq % job.users.count}",`
      const body = `{"type":"${job.type}",${user}"data":${eventData(seq)}}`
      const req = request(target, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.resume()
        response.once('end', () => {
          inFlight--
          if (response.statusCode === 202) result.accepted++
          else {
            result.failed++
            result.failure = `HTTP ${String(response.statusCode)}`
          }
          finish()
        })
      })
      req.once('error', (err) => {
        inFlight--
        result.failed++
        result.failure = err.message
        finish()
      })
      req.end(body)
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
