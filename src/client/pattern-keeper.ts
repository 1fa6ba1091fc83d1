import { EventgateError } from './errors.js'
import type { Link } from './link.js'
import { type Resumption, resubscribe, subscribeOn } from './resume.js'
import { Subscriptions } from './subscriptions.js'
import type { EventHandler, GatewayEvent, Subscription } from './types.js'

/** What the pattern keeper needs of the client, besides what a resumption needs. */
export interface PatternHost extends Omit<Resumption, 'subscriptions'> {
  /** The socket the gateway accepted (`connected`), if there is one. */
  current: () => Link | undefined
  closed: () => boolean
}

/** The application's patterns across sockets: subscribed, resubscribed with `since`, dispatched. */
export class PatternKeeper {
  private readonly subscriptions = new Subscriptions()
  private readonly resumption: Resumption

  constructor (private readonly host: PatternHost) {
    this.resumption = { ...host, subscriptions: this.subscriptions }
  }

  async subscribe<Data extends Record<string, unknown>> (pattern: string, handler: EventHandler<Data>): Promise<Subscription> {
    if (this.host.closed()) throw new EventgateError('CLIENT_CLOSED', 'the client is closed')
    if (this.subscriptions.add(pattern, handler as unknown as EventHandler)) {
      const link = this.host.current()
      if (link?.resumed === true) void subscribeOn(this.resumption, link, pattern)
    }
    await this.subscriptions.accepted(pattern)
    return { pattern, unsubscribe: async () => { await this.unsubscribe(pattern, handler) } }
  }

  async unsubscribe<Data extends Record<string, unknown>> (pattern: string, handler?: EventHandler<Data>): Promise<void> {
    if (!this.subscriptions.remove(pattern, handler as unknown as EventHandler | undefined)) return
    await this.host.current()?.request('unsubscribe', { eventTypes: [pattern] })
  }

  /** The patterns accepted before, subscribed again in one request from `since`. */
  async resume (link: Link, since: string | undefined): Promise<void> {
    const patterns = this.subscriptions.patterns(true)
    if (patterns.length > 0) await resubscribe(this.resumption, link, patterns, since)
  }

  /** After the resume: the patterns added while no socket was up. */
  subscribePending (link: Link): void {
    for (const pattern of this.subscriptions.patterns(false)) void subscribeOn(this.resumption, link, pattern)
  }

  dispatch (event: GatewayEvent, onThrow: (err: unknown) => void): void {
    this.subscriptions.dispatch(event, onThrow)
  }

  abandon (): void {
    this.subscriptions.abandon(new EventgateError('CLIENT_CLOSED', 'the client is closed'))
  }
}
