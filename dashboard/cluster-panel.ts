import type { InstanceFigures, Stats } from '../src/registry.js'
import { byId, fillRows } from './dom.js'
import { timeWithZone } from './time-format.js'

/** The gateway refreshes each instance's figures in the registry every 5 s: polling faster shows nothing new. */
export const POLL_INTERVAL_MS = 5000

interface Sample { at: number, published: number, deliveries: number }

const sum = (servers: InstanceFigures[], field: 'connections' | 'users' | 'subscriptions' | 'eventsPublished' | 'deliveries'): number =>
  servers.reduce((total, server) => total + server[field], 0)

/**
 * The admin view's cluster totals, from `GET /ws/stats` polled with the admin's token. Rates
 * are the change of the summed counters between two polls.
 */
export class ClusterPanel {
  private timer: ReturnType<typeof setInterval> | undefined
  private previous: Sample | undefined
  private readonly figures = {
    servers: byId('total-servers', HTMLElement),
    connections: byId('total-connections', HTMLElement),
    users: byId('total-users', HTMLElement),
    subscriptions: byId('total-subscriptions', HTMLElement),
    published: byId('total-published-rate', HTMLElement),
    deliveries: byId('total-delivery-rate', HTMLElement)
  }

  private readonly servers = byId('servers', HTMLTableSectionElement)
  private readonly status = byId('cluster-status', HTMLElement)

  start (token: string): void {
    this.stop()
    const poll = (): void => { this.poll(token).catch((err: unknown) => { this.status.textContent = `stats unavailable: ${(err as Error).message}` }) }
    poll()
    this.timer = setInterval(poll, POLL_INTERVAL_MS)
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.previous = undefined
  }

  private async poll (token: string): Promise<void> {
    const response = await fetch('/ws/stats', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' })
    if (!response.ok) throw new Error(`GET /ws/stats answered ${response.status}`)
    this.render(await response.json() as Stats, Date.now())
  }

  private render ({ instance, global }: Stats, at: number): void {
    // `global` is null while Redis is unreachable: this instance is then all we know.
    const servers = global?.servers ?? [instance]
    const sample = { at, published: sum(servers, 'eventsPublished'), deliveries: sum(servers, 'deliveries') }
    const previous = this.previous
    this.previous = sample
    const rate = (field: 'published' | 'deliveries'): string => {
      if (previous === undefined || sample.at <= previous.at) return '…'
      // A restarted or departed instance lowers the sum: show no negative rate.
      return Math.max(0, (sample[field] - previous[field]) * 1000 / (sample.at - previous.at)).toFixed(1)
    }
    this.figures.servers.textContent = String(global?.totalServers ?? 1)
    this.figures.connections.textContent = String(global?.totalConnections ?? instance.connections)
    this.figures.users.textContent = String(sum(servers, 'users'))
    this.figures.subscriptions.textContent = String(sum(servers, 'subscriptions'))
    this.figures.published.textContent = rate('published')
    this.figures.deliveries.textContent = rate('deliveries')
    fillRows(this.servers, servers.map((s) => [s.serverId, s.connections, s.users, s.subscriptions, s.eventsPublished, s.deliveries, s.busRoundTripMs === null ? '–' : s.busRoundTripMs.toFixed(1)]))
    this.status.textContent = global === null
      ? `this instance only (cluster figures unavailable) · ${timeWithZone(new Date(at))}`
      : `updated ${timeWithZone(new Date(at))}`
  }
}
