import { Agent } from 'node:http'
import { http, publish } from './http.js'
import type { Lab } from './lab.js'
import { Client } from './sockets.js'
import { serviceToken, userToken } from './tokens.js'

/** A steady trickle, so a short check still carries a few events. */
const TICK_MS = 200
const HEALTH_MS = 250
const CONNECT_MS = 5000
/** How long deliveries may trail the last publish before they count as lost. */
const TAIL_MS = 5000
const USER = 'control-user'

export interface LegitFigures {
  sent: number
  received: number
  /** How long the control publishes took: an instance too busy to answer starves its publishers. */
  publishP99Ms: number
  healthP99Ms: number
  /** Health answers that were not 200, or never came. */
  healthFailures: number
  /**
   * Publishes and health checks answered 503 while a check had stopped Redis on purpose: the
   * documented answer then, so counted here and not in `sent` or `healthFailures`.
   */
  outagePublishes: number
  outageHealth: number
}

function p99 (values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number
}

/**
 * The legitimate traffic around one check: a user subscribed on instance B to `control.*`,
 * receiving events a service publishes on instance A every 200 ms, and `/ws/health` polled on
 * both. All of it comes from 127.0.0.1, an address no attack uses.
 */
export class Legit {
  private readonly sentIds = new Set<string>()
  private readonly receivedIds = new Set<string>()
  private attempts = 0
  private readonly healthMs: number[] = []
  private readonly publishMs: number[] = []
  private healthFailures = 0
  private outagePublishes = 0
  private outageHealth = 0
  private running = true
  private readonly loops: Array<Promise<void>> = []
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 })
  private client: Client | undefined

  constructor (private readonly lab: Lab) {}

  async start (): Promise<void> {
    const client = Client.open(this.lab.b.port, userToken(USER))
    this.client = client
    client.socket.on('message', (data: Buffer) => {
      const text = data.toString()
      if (!text.startsWith('{"type":"event"')) return
      const id = (JSON.parse(text) as { payload: { id: string } }).payload.id
      this.receivedIds.add(id)
    })
    if (await client.connected(CONNECT_MS)) await client.request('subscribe', { eventTypes: ['control.*'] }, CONNECT_MS)
    this.loops.push(this.publishLoop(), this.healthLoop(this.lab.a.port), this.healthLoop(this.lab.b.port))
  }

  async stop (): Promise<LegitFigures> {
    this.running = false
    await Promise.all(this.loops)
    const deadline = Date.now() + TAIL_MS
    while (this.missing() > 0 && this.client?.isOpen === true && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    this.client?.close()
    this.agent.destroy()
    return {
      sent: this.attempts - this.outagePublishes,
      received: [...this.sentIds].filter((id) => this.receivedIds.has(id)).length,
      publishP99Ms: p99(this.publishMs),
      healthP99Ms: p99(this.healthMs),
      healthFailures: this.healthFailures,
      outagePublishes: this.outagePublishes,
      outageHealth: this.outageHealth
    }
  }

  private missing (): number {
    let missing = 0
    for (const id of this.sentIds) if (!this.receivedIds.has(id)) missing++
    return missing
  }

  /**
   * Every attempt counts as sent: a publish the gateway refused is legitimate traffic lost. But
   * for a 503 while Redis is down on purpose, which is what the gateway must answer then.
   */
  private async publishLoop (): Promise<void> {
    const token = serviceToken('control-publisher')
    while (this.running) {
      const next = Date.now() + TICK_MS
      this.attempts++
      const t0 = performance.now()
      const { status, ids } = await publish(this.lab.a.port, token, { type: 'control.tick', userId: USER, data: { n: this.attempts } })
      if (status === 503 && this.lab.inOutage(t0, performance.now())) {
        this.outagePublishes++
      } else {
        this.publishMs.push(performance.now() - t0)
        for (const id of ids) this.sentIds.add(id)
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())))
    }
  }

  private async healthLoop (port: number): Promise<void> {
    while (this.running) {
      const next = Date.now() + HEALTH_MS
      const t0 = performance.now()
      const answer = await http(port, { path: '/ws/health', agent: this.agent, timeoutMs: 5000 })
      if (answer.status === 200) this.healthMs.push(answer.ms)
      else if (answer.status === 503 && this.lab.inOutage(t0, performance.now())) this.outageHealth++
      else this.healthFailures++
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())))
    }
  }
}
