import type { EventEmitter } from 'node:events'

/** An upgrade's TCP socket: it emits 'close' once, however the upgrade ends. */
type UpgradeSocket = Pick<EventEmitter, 'once' | 'removeListener'>

interface Place {
  userId: string
  /** The connection id the user's slot was taken for, once the slot store granted it. */
  connectionId: string | undefined
  onClose: () => void
}

/**
 * WEBSOCKET_MAX_CONNECTIONS counts the upgrades admitted and not yet open along with the open
 * sockets. Admission awaits the slot store: counting open sockets alone, every upgrade that
 * arrived during that wait passed the same check (60 of 60 concurrent upgrades opened with
 * the cap at 20). A place is taken synchronously, before the wait, and is held until the upgrade
 * opens or is refused (`settle`), or until its TCP socket closes first: ws drops a handshake
 * it finds broken (a bad Sec-WebSocket-Key) without calling the route, and a client may leave
 * during the wait. Then its user's slot is given back too, rather than held until it expires.
 */
export class Admissions {
  private readonly places = new Map<UpgradeSocket, Place>()

  constructor (
    private readonly limit: number,
    /** Sockets open now. */
    private readonly open: () => number,
    /** Gives back the slot of an upgrade that went away after the store granted it. */
    private readonly abandoned: (userId: string, connectionId: string) => void
  ) {}

  /** Upgrades holding a place. */
  get size (): number {
    return this.places.size
  }

  /** Takes a place for the upgrade on `socket`; false when open sockets and places fill the instance. */
  reserve (socket: UpgradeSocket, userId: string): boolean {
    if (this.open() + this.places.size >= this.limit) return false
    const onClose = (): void => { this.drop(socket) }
    this.places.set(socket, { userId, connectionId: undefined, onClose })
    socket.once('close', onClose)
    return true
  }

  /**
   * Records the slot the store granted the upgrade. False when its socket closed meanwhile:
   * nothing will open, and the caller gives the slot back.
   */
  granted (socket: UpgradeSocket, connectionId: string): boolean {
    const place = this.places.get(socket)
    if (place === undefined) return false
    place.connectionId = connectionId
    return true
  }

  /** The upgrade opened (the hub counts it from now on) or was refused: its place is free. */
  settle (socket: UpgradeSocket): void {
    const place = this.places.get(socket)
    if (place === undefined) return
    this.places.delete(socket)
    socket.removeListener('close', place.onClose)
  }

  private drop (socket: UpgradeSocket): void {
    const place = this.places.get(socket)
    if (place === undefined) return
    this.places.delete(socket)
    if (place.connectionId !== undefined) this.abandoned(place.userId, place.connectionId)
  }
}
