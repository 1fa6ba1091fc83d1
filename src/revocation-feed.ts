import type { Redis } from 'ioredis'
import type { Log } from './logging.js'
import { MAX_REMEMBERED, type Revocations, type RevocationView } from './revocations.js'
import type { RedisClient } from './redis-connection.js'
import { REVOCATIONS_CHANNEL } from './store/redis.js'
import type { Store } from './store/store.js'

/** Wait before loading the list again after a load failed (Redis half back). */
const RETRY_MS = 500

/**
 * Keeps one instance's revocations whole on one Redis: subscribes to REVOCATIONS_CHANNEL, then
 * loads the list every revocation is recorded in. The store records and announces a revocation
 * in one script, so each one is either in the list loaded or announced after the subscription:
 * none is missed, whether it came before this instance started or while it runs. Whenever the
 * subscription drops, announcements may be lost, so the view is not current (authentications
 * read the store again) until the subscription is back and the list loaded again; nor while the
 * command connection is down, as other instances may revoke what this one cannot hear about
 * before its subscription notices.
 */
export class RevocationFeed implements RevocationView {
  /** Counts the subscription's losses: a load that began before the latest one does not count. */
  private generation = 0
  private loaded = false
  private retry: NodeJS.Timeout | undefined
  private stopped = false

  constructor (
    private readonly subscriber: Redis,
    private readonly commands: RedisClient,
    private readonly store: Store,
    private readonly revocations: Revocations,
    private readonly ttlMs: number,
    private readonly log: Log
  ) {}

  get current (): boolean {
    return this.loaded && this.subscriber.status === 'ready' && this.commands.status === 'ready'
  }

  start (): void {
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === REVOCATIONS_CHANNEL) this.announced(text)
    })
    this.subscriber.on('close', () => { this.lost() })
    this.subscriber.on('ready', () => { this.sync() })
    if (this.subscriber.status === 'ready') this.sync()
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.retry)
    this.subscriber.disconnect()
  }

  private lost (): void {
    this.generation++
    this.loaded = false
  }

  private sync (): void {
    this.lost()
    const generation = this.generation
    clearTimeout(this.retry)
    this.load(generation).catch((err: unknown) => {
      if (this.stopped || generation !== this.generation) return
      this.log.debug({ err }, 'revocations not loaded; retrying')
      this.retry = setTimeout(() => { if (generation === this.generation) this.sync() }, RETRY_MS).unref()
    })
  }

  private async load (generation: number): Promise<void> {
    // Confirmed before the list is read: what is revoked after the read is heard.
    await this.subscriber.subscribe(REVOCATIONS_CHANNEL)
    const list = await this.store.revocationList(this.ttlMs, MAX_REMEMBERED + 1)
    if (generation !== this.generation) return
    this.revocations.load(list)
    this.loaded = true
  }

  /** `<revokedAt> <rule>`, as the store's script announces it. */
  private announced (text: string): void {
    const space = text.indexOf(' ')
    const revokedAt = Number(text.slice(0, space))
    if (space < 1 || !Number.isFinite(revokedAt)) return
    this.revocations.note(text.slice(space + 1), revokedAt)
  }
}
