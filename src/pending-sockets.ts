import type { EventEmitter } from 'node:events'

/** Where pending sockets' limits come from (docs/configuration.md). */
export interface PendingLimits {
  /** WEBSOCKET_AUTH_TIMEOUT: how long a socket may stay open before it authenticates. */
  timeoutMs: number
  /** WEBSOCKET_MAX_UNAUTHENTICATED: pending sockets on this instance. */
  perInstance: number
  /** WEBSOCKET_MAX_UNAUTHENTICATED_PER_IP: pending sockets from one address on this instance. */
  perAddress: number
}

/** An upgrade's TCP socket: it emits 'close' once, however the socket ends. */
type TcpSocket = Pick<EventEmitter, 'once' | 'removeListener'>

/**
 * Counts the sockets opened without a credential and not yet authenticated, per instance and per
 * address, so they cannot be used to hold sockets open. In memory only: nothing unauthenticated
 * is written to the shared store. A place is held from the upgrade until its TCP socket closes
 * or the socket authenticates, whichever comes first.
 */
export class PendingSockets {
  private readonly byAddress = new Map<string, number>()
  private readonly places = new Map<TcpSocket, { ip: string, onClose: () => void }>()

  constructor (private readonly limits: Pick<PendingLimits, 'perInstance' | 'perAddress'>) {}

  get size (): number {
    return this.places.size
  }

  /** Takes a place for the pending socket on `tcp` from `ip`; false past either cap. */
  reserve (tcp: TcpSocket, ip: string): boolean {
    const fromAddress = this.byAddress.get(ip) ?? 0
    if (this.places.size >= this.limits.perInstance || fromAddress >= this.limits.perAddress) return false
    const onClose = (): void => { this.release(tcp) }
    this.places.set(tcp, { ip, onClose })
    this.byAddress.set(ip, fromAddress + 1)
    tcp.once('close', onClose)
    return true
  }

  /** The socket authenticated or closed: its place is free. */
  release (tcp: TcpSocket): void {
    const place = this.places.get(tcp)
    if (place === undefined) return
    this.places.delete(tcp)
    tcp.removeListener('close', place.onClose)
    const left = (this.byAddress.get(place.ip) ?? 1) - 1
    if (left === 0) this.byAddress.delete(place.ip)
    else this.byAddress.set(place.ip, left)
  }
}
