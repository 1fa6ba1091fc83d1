import { isRoomName, isRoomRole, type RoomRole } from '../wire/rooms.js'
import { ProtocolError } from '../wire/protocol-errors.js'
import { type BackoffOptions, backoffDelay } from './backoff.js'
import { EventgateError } from './errors.js'
import { readFault, readStrings, type ServerFrame } from './frames.js'
import type { Link } from './link.js'
import { RoomSet } from './room-set.js'
import type { PublishOptions, RoomChange, RoomGrant, RoomMembership } from './types.js'

/** Refusals of a rejoin that a later try on the same socket can overcome. */
const TRANSIENT: ReadonlySet<string> = new Set([ProtocolError.UNAVAILABLE, ProtocolError.RATE_LIMITED, ProtocolError.INTERNAL_ERROR])

/** What the room keeper needs of the client. */
export interface RoomHost {
  /** The socket once its rooms are joined again and its patterns resubscribed; rejects once the client is closed. */
  ready: () => Promise<Link>
  /** The socket the gateway accepted (`connected`), if there is one. */
  current: () => Link | undefined
  closed: () => boolean
  backoff: BackoffOptions
  report: (err: EventgateError) => void
  /** A `room_joined` reply's `position`: where the room's partition starts for this client. */
  positioned: (position: unknown) => void
  changed: (change: RoomChange) => void
}

/**
 * The client's side of rooms (docs/rooms.md): the requests, and the rooms joined again on every
 * reconnect before the resume, since a `subscribe` with `since` replays only the events of the
 * rooms the connection is in when it arrives.
 */
export class RoomKeeper {
  private readonly set = new RoomSet()

  constructor (private readonly host: RoomHost) {}

  get groups (): readonly string[] {
    return this.set.groups
  }

  async join (room: string): Promise<RoomMembership> {
    if (this.host.closed()) throw closedError()
    if (!isRoomName(room)) throw new EventgateError('INVALID_MESSAGE', `"${room}" is not a room name`)
    if (this.set.add(room)) {
      const link = this.host.current()
      // Before the resume, the rooms asked for meanwhile are joined once it is done.
      if (link?.resumed === true) void this.joinOn(link, room)
    }
    const membership = await this.set.joined(room)
    if (membership === undefined) throw new EventgateError('FORBIDDEN', `room "${room}" was left before it was joined`)
    return membership
  }

  /**
   * Forgets the room and, with a socket up, leaves it there. Without one there is nothing to
   * leave: the next socket does not join it.
   */
  async leave (room: string): Promise<void> {
    // A join under way goes first, so the leave does not overtake it.
    if (this.host.current() !== undefined) await this.set.joined(room).catch(() => undefined)
    this.set.forget(room, new EventgateError('FORBIDDEN', `room "${room}" was left before it was joined`))
    const link = this.host.current()
    if (link === undefined) return
    const reply = await link.request('leave', { room })
    if (reply !== undefined && reply.type !== 'room_left') throw refusal(reply, `leave "${room}"`)
  }

  async publish (room: string, type: string, data?: Record<string, unknown>, options: PublishOptions = {}): Promise<string> {
    const { idempotencyKey } = options
    const link = await this.host.ready()
    const reply = await link.request('publish', { room, type, ...(data === undefined ? {} : { data }), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) })
    if (reply === undefined) {
      throw new EventgateError('CONNECTION_CLOSED', 'the socket closed before the gateway answered the publish: the event may be published; publish again with the same idempotencyKey to be sure')
    }
    if (reply.type === 'published' && typeof reply.payload.id === 'string') return reply.payload.id
    throw refusal(reply, `publish into "${room}"`)
  }

  /** `get_rooms`; a socket lost before the answer is asked again on the next one: the request changes nothing. */
  async list (): Promise<RoomGrant[]> {
    for (;;) {
      const link = await this.host.ready()
      const reply = await link.request('get_rooms')
      if (reply?.type === 'rooms') return readGrants(reply.payload.rooms)
      if (reply !== undefined) throw refusal(reply, 'get_rooms')
      await link.closed
    }
  }

  /** The `connected` frame: the groups of this connection's token. */
  connected (groups: unknown): void {
    this.set.placeGroups(readStrings(groups))
  }

  /** After `connected`, before the resume: every room the gateway accepted before is joined again. */
  async rejoin (link: Link): Promise<void> {
    await Promise.all(this.set.rooms(true).map(async (room) => { await this.rejoinOne(link, room, 0) }))
  }

  /** After the resume: the rooms asked for while no socket was up. */
  joinPending (link: Link): void {
    for (const room of this.set.rooms(false)) void this.joinOn(link, room)
  }

  /** A `room_joined` push: a reauthentication entered a new group. */
  groupEntered (payload: Record<string, unknown>): void {
    const { room, role } = payload
    if (!isRoomName(room) || !this.set.addGroup(room)) return
    this.host.changed({ room, action: 'joined', role: readRole(role) })
  }

  /** A `room_left` push: a reauthentication took the room's grant away. */
  roomLeft (payload: Record<string, unknown>): void {
    const { room, reason } = payload
    if (!isRoomName(room)) return
    this.set.removeGroup(room)
    this.set.forget(room, new EventgateError('FORBIDDEN', `the token no longer grants room "${room}"`))
    this.host.changed({ room, action: 'left', reason: typeof reason === 'string' ? reason : 'revoked' })
  }

  abandon (): void {
    this.set.abandon(closedError())
  }

  private async rejoinOne (link: Link, room: string, tries: number): Promise<void> {
    const reply = await link.request('join', { room })
    if (reply === undefined) return
    if (reply.type === 'room_joined') {
      // Not positioned: the resume's `subscribe` places the partitions, after what was missed.
      this.set.accept(room, readRole(reply.payload.role))
      return
    }
    const fault = readFault(reply.payload)
    if (TRANSIENT.has(fault.code)) {
      await link.pause(backoffDelay(tries, this.host.backoff))
      await this.rejoinOne(link, room, tries + 1)
      return
    }
    const err = new EventgateError(fault.code, `rejoining room "${room}" failed: ${fault.message}`)
    if (!this.set.forget(room, err)) return
    this.host.report(err)
    this.host.changed({ room, action: 'left', reason: fault.code })
  }

  /** A room not accepted yet; a refusal rejects the `join` calls waiting on it. */
  private async joinOn (link: Link, room: string): Promise<void> {
    const reply = await link.request('join', { room })
    // The socket went first: the room is joined on the next one.
    if (reply === undefined) return
    if (reply.type === 'room_joined') {
      this.host.positioned(reply.payload.position)
      this.set.accept(room, readRole(reply.payload.role))
      return
    }
    const fault = readFault(reply.payload)
    this.set.forget(room, new EventgateError(fault.code, `join "${room}": ${fault.message}`))
  }
}

function refusal (reply: ServerFrame, what: string): EventgateError {
  const fault = readFault(reply.payload)
  return new EventgateError(fault.code, `${what} refused: ${fault.message}`)
}

const closedError = (): EventgateError => new EventgateError('CLIENT_CLOSED', 'the client is closed')

/** A role the gateway named; a gateway that names none gives the lowest. */
function readRole (value: unknown): RoomRole {
  return isRoomRole(value) ? value : 'read'
}

function readGrants (value: unknown): RoomGrant[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((grant: unknown) => {
    if (typeof grant !== 'object' || grant === null) return []
    const { room, role, joined } = grant as Record<string, unknown>
    return isRoomName(room) && isRoomRole(role) ? [{ room, role, joined: joined === true }] : []
  })
}
