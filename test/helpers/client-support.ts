import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import WebSocket from 'ws'
import type { Teardown } from '../../harness/teardown.js'
import { serviceToken } from '../../harness/tokens.js'
import type { ClientState, EventgateClient, EventgateError, GatewayEvent } from '../../src/client/index.js'
import { post } from './gateway.js'

export { WebSocket }

/** Everything a client tells its application, recorded from the moment it is created. */
export function record (client: EventgateClient) {
  const seen = { events: [] as GatewayEvent[], errors: [] as EventgateError[], states: [] as ClientState[] }
  client.on('event', (event) => { seen.events.push(event) })
  client.on('error', (err) => { seen.errors.push(err) })
  client.on('state', (state) => { seen.states.push(state) })
  return seen
}

export interface Draft {
  type: string
  userId?: string
  data?: Record<string, unknown>
}

/** Publishes through `POST /events` and returns the ids the gateway assigned, in order. */
export async function publish (httpUrl: string, events: Draft[]): Promise<string[]> {
  const res = await post(`${httpUrl}/events`, { events }, serviceToken())
  if (res.status !== 202) throw new Error(`POST /events answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body.ids as string[]
}

/**
 * A TCP load balancer on a free loopback port: new connections go to `target`, connections
 * made before a switch stay where they are (as with a real one, until a side closes).
 */
export class Balancer {
  target: number
  private readonly sockets = new Set<Socket>()

  private constructor (readonly port: number, target: number) {
    this.target = target
  }

  static async start (t: Teardown, target: number): Promise<Balancer> {
    let balancer: Balancer | undefined
    const server = createServer((client) => { balancer?.accept(client) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const address = server.address()
    if (typeof address !== 'object' || address === null) throw new Error('balancer has no address')
    balancer = new Balancer(address.port, target)
    t.teardown(async () => {
      for (const socket of balancer?.sockets ?? []) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    })
    return balancer
  }

  get url (): string {
    return `http://127.0.0.1:${this.port}`
  }

  private accept (client: Socket): void {
    const upstream = tcpConnect(this.target, '127.0.0.1')
    for (const socket of [client, upstream]) {
      this.sockets.add(socket)
      socket.on('error', () => { client.destroy(); upstream.destroy() })
      socket.on('close', () => { this.sockets.delete(socket); client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  }
}

export const portOf = (url: string): number => Number(new URL(url).port)
