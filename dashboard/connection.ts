import { createClient } from '../src/client/index.js'
import type { ClientState, CloseInfo, ConnectedInfo, EventgateClient, EventgateError, EventHandler, ReconnectInfo, ResumedInfo, Stream, Subscription } from '../src/client/index.js'

export interface ConnectionHandlers {
  event: EventHandler
  state: (state: ClientState, cause?: CloseInfo) => void
  reconnect: (info: ReconnectInfo) => void
  error: (error: EventgateError) => void
  connected: (info: ConnectedInfo) => void
  resumed: (info: ResumedInfo) => void
}

/**
 * The page's one connection: an SDK client on this gateway, and the patterns it holds.
 * Reconnecting, tickets and resuming are the SDK's; this only keeps the patterns in step with
 * the filter.
 */
export class Connection {
  private readonly client: EventgateClient
  private readonly held = new Map<string, Subscription>()
  /** Filter changes apply one after the other: a quick second Apply must not interleave with the first. */
  private applying: Promise<unknown> = Promise.resolve()

  constructor (token: string, stream: Stream, private readonly handlers: ConnectionHandlers) {
    this.client = createClient({ url: location.origin, getToken: () => token, stream })
    this.client.on('state', handlers.state)
    this.client.on('reconnect', handlers.reconnect)
    this.client.on('error', handlers.error)
    this.client.on('connected', handlers.connected)
    this.client.on('resumed', handlers.resumed)
  }

  /** Holds exactly `patterns`; resolves with the messages of those the gateway refused. */
  async setPatterns (patterns: readonly string[]): Promise<string[]> {
    const applied = this.applying.then(async () => await this.apply(patterns))
    this.applying = applied.catch(() => {})
    return await applied
  }

  /** `text` split into patterns and held; the sentence that tells how it went. */
  async applyPatterns (text: string): Promise<{ text: string, error: boolean }> {
    const wanted = [...new Set(text.split(/[\s,]+/).filter((p) => p !== ''))]
    if (wanted.length === 0) return { text: 'enter at least one pattern, such as authentication.* or *', error: true }
    const refused = await this.setPatterns(wanted)
    return refused.length > 0 ? { text: refused.join('; '), error: true } : { text: `subscribed to ${wanted.join(', ')}`, error: false }
  }

  close (): void {
    void this.client.close()
  }

  private async apply (patterns: readonly string[]): Promise<string[]> {
    const wanted = new Set(patterns)
    // Dropped first: events of a pattern left behind stop reaching the list before new ones come.
    await Promise.all([...this.held].filter(([pattern]) => !wanted.has(pattern)).map(async ([pattern, subscription]) => {
      this.held.delete(pattern)
      await subscription.unsubscribe()
    }))
    const results = await Promise.allSettled([...wanted].filter((p) => !this.held.has(p)).map(async (pattern) => {
      this.held.set(pattern, await this.client.subscribe(pattern, this.handlers.event))
    }))
    return results.flatMap((r) => r.status === 'rejected' ? [(r.reason as Error).message] : [])
  }
}
