import { randomUUID } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import { CloseCode, type Refusal } from './errors.js'
import type { SlotGrant } from './slots.js'

/** An upgrade's TCP socket: it emits 'close' once, however the upgrade ends. */
type UpgradeSocket = Pick<EventEmitter, 'once' | 'removeListener'>

/** MAX_CONNECTIONS_PER_USER's slots, shared by the instances (`ConnectionSlots`). */
export interface UserSlots {
  /** Takes a slot of `userId` for the connection; false when the user holds them all. */
  acquire: (userId: string, connectionId: string) => Promise<boolean>
  /** `acquire` for an upgrade, counted against the user's upgrade budget in the same store call. */
  admitUpgrade: (userId: string, connectionId: string) => Promise<SlotGrant>
  release: (userId: string, connectionId: string) => void
}

/** An admitted upgrade's connection id, or why it is refused. */
export type Admission = { connectionId: string } | { refusal: Refusal }

/** An upgrade past its user's budget (RATE_LIMIT_UPGRADES): refused 429, to retry in `retryInMs`. */
export interface Limited {
  limited: { retryInMs: number }
}

/** What authentication and admission made of an upgrade, when its route hands the socket over. */
export interface HandedUpgrade {
  refusal: Refusal | undefined
  connectionId: string | undefined
  /** Read only once admitted: a refused upgrade may have no user. */
  user: { userId: string }
}

const SERVER_FULL: Refusal = { code: CloseCode.TRY_AGAIN_LATER, reason: 'server_full' }
const TOO_MANY_CONNECTIONS: Refusal = { code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'too_many_connections' }
const NOT_ADMITTED: Refusal = { code: CloseCode.TRY_AGAIN_LATER, reason: 'not_admitted' }
const SHUTTING_DOWN: Refusal = { code: CloseCode.GOING_AWAY, reason: 'server_shutting_down' }

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
 * opens or is refused (`handOver`), or until its TCP socket closes first: ws drops a handshake
 * it finds broken (a bad Sec-WebSocket-Key) without calling the route, and a client may leave
 * during the wait. Then its user's slot is given back too, rather than held until it expires.
 */
export class Admissions {
  private readonly places = new Map<UpgradeSocket, Place>()

  constructor (
    /** WEBSOCKET_MAX_CONNECTIONS */
    private readonly limit: number,
    /** Sockets open now. */
    private readonly open: () => number,
    private readonly slots: UserSlots,
    private readonly newId: () => string = randomUUID
  ) {}

  /** Upgrades holding a place. */
  get size (): number {
    return this.places.size
  }

  /**
   * Admits `userId`'s upgrade on `socket`, before the upgrade itself so no frame can arrive
   * while the store is asked: refused `1013 server_full` when the instance is full, `4008
   * too_many_connections` when the user holds all their slots; else the connection's id, its
   * place and its slot held. Undefined when the client left while the store was asked: nothing
   * will open, and the slot is given back. An `upgrade` (rather than a socket that authenticated
   * once open) is first counted against the user's budget, in the same store call, and past it
   * `limited`.
   */
  async admit (socket: UpgradeSocket, userId: string, upgrade = false): Promise<Admission | Limited | undefined> {
    if (!this.reserve(socket, userId)) return { refusal: SERVER_FULL }
    const connectionId = this.newId()
    const grant = upgrade ? await this.slots.admitUpgrade(userId, connectionId) : await this.slots.acquire(userId, connectionId) ? 'granted' : 'full'
    if (grant !== 'granted') {
      this.settle(socket)
      return grant === 'full' ? { refusal: TOO_MANY_CONNECTIONS } : { limited: grant }
    }
    if (this.granted(socket, connectionId)) return { connectionId }
    this.slots.release(userId, connectionId)
    return undefined
  }

  /**
   * The route has the upgraded socket: its place is free, as the hub counts it once open, and
   * it is to be opened as the returned connection or closed with the refusal. One admitted
   * before the drain began and upgraded after the shutdown closed the sockets 1001 would miss
   * its 1001 and could hold the shutdown open: it is closed 1001 too, and its slot given back.
   */
  handOver (socket: UpgradeSocket, upgrade: HandedUpgrade, draining: boolean): Admission {
    this.settle(socket)
    const { refusal, connectionId } = upgrade
    if (refusal !== undefined || connectionId === undefined) return { refusal: refusal ?? NOT_ADMITTED }
    if (!draining) return { connectionId }
    this.slots.release(upgrade.user.userId, connectionId)
    return { refusal: SHUTTING_DOWN }
  }

  /** Takes a place for the upgrade on `socket`; false when open sockets and places fill the instance. */
  private reserve (socket: UpgradeSocket, userId: string): boolean {
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
  private granted (socket: UpgradeSocket, connectionId: string): boolean {
    const place = this.places.get(socket)
    if (place === undefined) return false
    place.connectionId = connectionId
    return true
  }

  /** The upgrade opened (the hub counts it from now on) or was refused: its place is free. */
  private settle (socket: UpgradeSocket): void {
    const place = this.places.get(socket)
    if (place === undefined) return
    this.places.delete(socket)
    socket.removeListener('close', place.onClose)
  }

  private drop (socket: UpgradeSocket): void {
    const place = this.places.get(socket)
    if (place === undefined) return
    this.places.delete(socket)
    // Gives back the slot of an upgrade that went away after the store granted it.
    if (place.connectionId !== undefined) this.slots.release(place.userId, place.connectionId)
  }
}
