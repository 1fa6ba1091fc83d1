import { createConnection, createServer, type Socket } from 'node:net'
import type { Teardown } from '../../harness/teardown.js'

interface Pair {
  client: Socket
  redis: Socket
  /** The connection sent SUBSCRIBE: it is a subscription, not a command connection. */
  subscription: boolean
  /** It sent what `holdRepliesAfter` waits for: what Redis sends it from then on is held. */
  marked: boolean
  held: Buffer[]
}

/**
 * A TCP proxy on a free loopback port in front of a redis-server, for the network's faults.
 * `holdSubscriptions()` keeps back what Redis sends on subscriptions (the connection stays up, as
 * on a slow link or a congested output buffer) while commands flow: a gateway lags.
 * `holdRepliesAfter(pattern)` keeps back what Redis sends a connection once it sent a command
 * matching `pattern`: Redis has run it, the client does not know. `release()` lets what was held
 * through, in order; `cut()` resets every connection, and what was held is lost with it.
 */
export class RedisProxy {
  private readonly pairs = new Set<Pair>()
  private subscriptionsHeld = false
  private mark: RegExp | undefined
  private markSeen = 0

  private constructor (readonly port: number) {}

  static async start (t: Teardown, redisPort: number): Promise<RedisProxy> {
    let proxy: RedisProxy | undefined
    const server = createServer((client) => { proxy?.accept(client, redisPort) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const address = server.address()
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no address')
    proxy = new RedisProxy(address.port)
    t.teardown(async () => {
      for (const pair of proxy?.pairs ?? []) pair.client.destroy()
      await new Promise((resolve) => server.close(resolve))
    })
    return proxy
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  holdSubscriptions (): void {
    this.subscriptionsHeld = true
  }

  holdRepliesAfter (pattern: RegExp): void {
    this.mark = new RegExp(pattern.source, 'g')
    this.markSeen = 0
  }

  /** How often the pattern of `holdRepliesAfter` was sent since it was set: commands that ran. */
  get marksSeen (): number {
    return this.markSeen
  }

  release (): void {
    this.stopHolding()
    for (const pair of this.pairs) for (const chunk of pair.held.splice(0)) pair.client.write(chunk)
  }

  /** Resets every connection: the clients see them drop and reconnect, through the proxy again. */
  cut (): void {
    this.stopHolding()
    for (const pair of this.pairs) pair.client.resetAndDestroy()
  }

  private stopHolding (): void {
    this.subscriptionsHeld = false
    this.mark = undefined
    for (const pair of this.pairs) pair.marked = false
  }

  private accept (client: Socket, redisPort: number): void {
    const pair: Pair = { client, redis: createConnection(redisPort, '127.0.0.1'), subscription: false, marked: false, held: [] }
    this.pairs.add(pair)
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      if (/subscribe/i.test(text)) pair.subscription = true
      const marks = this.mark === undefined ? 0 : text.match(this.mark)?.length ?? 0
      if (marks > 0) {
        pair.marked = true
        this.markSeen += marks
      }
      pair.redis.write(chunk)
    })
    pair.redis.on('data', (chunk: Buffer) => {
      if (pair.marked || (this.subscriptionsHeld && pair.subscription)) pair.held.push(chunk)
      else client.write(chunk)
    })
    const close = (): void => {
      this.pairs.delete(pair)
      client.destroy()
      pair.redis.destroy()
    }
    for (const socket of [client, pair.redis]) {
      socket.on('error', close)
      socket.on('close', close)
    }
  }
}
