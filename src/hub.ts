import type { BusMessage } from './bus/bus.js'
import { type Connection, ReadyState, type RoomEntry } from './connection.js'
import { CloseCode } from './errors.js'
import { type GatewayEvent, isAdminOnly } from './events.js'
import { KeyedTries } from './keyed-tries.js'
import { Partitioning } from './partitions.js'
import { encodeEventFrame, EventFrame, type Sealer } from './protocol.js'
import { compareIds, partitionOf } from './wire/event-id.js'
import { PatternTrie } from './wire/pattern-trie.js'

/**
 * This instance's connections and their subscriptions, indexed so that delivering an event
 * touches only connections that may receive it:
 * - `admin` holds the patterns of admin streams, which see every event;
 * - `broadcast` holds the patterns of user streams, for events without a `userId` or rooms;
 * - `byUser` holds one trie per user, for events addressed to that user;
 * - `byRoom` holds one trie per room, of its members' patterns, for events addressed to it.
 */
export class Hub {
  private readonly connections = new Set<Connection>()
  private readonly userConnections = new Map<string, Set<Connection>>()
  private readonly byUser = new KeyedTries<Connection>()
  private readonly byRoom = new KeyedTries<Connection>()
  private readonly broadcast = new PatternTrie<Connection>()
  private readonly admin = new PatternTrie<Connection>()
  private readonly counters = { eventsReceived: 0, deliveries: 0 }
  private slowConsumers = 0
  private sequence = 0
  /** Kept as they change, so figures read on every scrape and registry beat walk no socket. */
  private subscriptions = 0
  private adminConnections = 0
  private frame = new EventFrame(Buffer.alloc(0))
  private eventId = ''
  private partition = ''
  private event: GatewayEvent | undefined
  /** The event is written to several partitions: each connection takes one copy (Partitioning.copyFor). */
  private copies = false
  private control: ((event: GatewayEvent) => void) | undefined
  /** WEBSOCKET_MAX_BUFFERED_BYTES: a socket holding more unsent bytes is a slow consumer. */
  private readonly maxBufferedBytes: number
  /** MESSAGE_SIGNING_SECRET's sealing, once per event frame whatever the number of recipients. */
  private readonly seal: Sealer | undefined
  /** The event log's partitions, which say where each copy of a multi-partition event lives. */
  private readonly partitioning: Partitioning

  constructor (options: { maxBufferedBytes?: number, seal?: Sealer | undefined, partitioning?: Partitioning } = {}) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? Number.POSITIVE_INFINITY
    this.seal = options.seal
    this.partitioning = options.partitioning ?? new Partitioning(1)
  }

  /** The frame of an event, live or replayed: built, and sealed, once for all its recipients. */
  eventFrame (eventJson: string): EventFrame {
    return new EventFrame(encodeEventFrame(eventJson, this.seal))
  }

  /** Slow consumers closed 4009 so far. */
  get slowConsumerCloses (): number {
    return this.slowConsumers
  }

  get size (): number {
    return this.connections.size
  }

  each (): IterableIterator<Connection> {
    return this.connections.values()
  }

  /** Connections on /ws/admin; the rest are on /ws/events. */
  get adminCount (): number {
    return this.adminConnections
  }

  connectionsOf (userId: string): number {
    return this.userConnections.get(userId)?.size ?? 0
  }

  add (connection: Connection): void {
    if (this.connections.has(connection)) return
    this.connections.add(connection)
    if (connection.stream === 'admin') this.adminConnections++
    const { userId } = connection.identity
    let own = this.userConnections.get(userId)
    if (own === undefined) this.userConnections.set(userId, own = new Set())
    own.add(connection)
  }

  remove (connection: Connection): void {
    if (!this.connections.delete(connection)) return
    if (connection.stream === 'admin') this.adminConnections--
    this.unsubscribe(connection, [...connection.patterns])
    const { userId } = connection.identity
    const own = this.userConnections.get(userId)
    own?.delete(connection)
    if (own?.size === 0) this.userConnections.delete(userId)
  }

  subscribe (connection: Connection, patterns: readonly string[]): void {
    for (const pattern of patterns) {
      if (connection.patterns.has(pattern)) continue
      connection.patterns.add(pattern)
      this.subscriptions++
      if (connection.stream === 'admin') {
        this.admin.add(pattern, connection)
        continue
      }
      this.broadcast.add(pattern, connection)
      this.byUser.add(connection.identity.userId, pattern, connection)
      for (const room of connection.rooms.keys()) this.byRoom.add(room, pattern, connection)
    }
  }

  unsubscribe (connection: Connection, patterns: readonly string[]): void {
    for (const pattern of patterns) {
      if (!connection.patterns.delete(pattern)) continue
      this.subscriptions--
      if (connection.stream === 'admin') {
        this.admin.remove(pattern, connection)
        continue
      }
      this.broadcast.remove(pattern, connection)
      this.byUser.remove(connection.identity.userId, pattern, connection)
      for (const room of connection.rooms.keys()) this.byRoom.remove(room, pattern, connection)
    }
  }

  /**
   * Puts a connection in a room, by its token's `groups` claim or a `join`: false when it was
   * in already. Its patterns, past and future, then match the room's events.
   */
  enter (connection: Connection, room: string, by: RoomEntry): boolean {
    if (connection.rooms.has(room)) return false
    connection.setRoom(room, by)
    if (connection.stream === 'admin') return true
    for (const pattern of connection.patterns) this.byRoom.add(room, pattern, connection)
    return true
  }

  /** Takes a connection out of a room; false when it was not in. */
  exit (connection: Connection, room: string): boolean {
    if (!connection.rooms.has(room)) return false
    if (connection.stream !== 'admin') for (const pattern of connection.patterns) this.byRoom.remove(room, pattern, connection)
    connection.deleteRoom(room)
    return true
  }

  /** Sends one event to every entitled, subscribed connection; the frame is built once. */
  deliver ({ event, json }: BusMessage): void {
    this.counters.eventsReceived++
    this.sequence++
    this.eventId = event.id
    this.partition = partitionOf(event.id)
    this.event = event
    this.copies = event.groups !== undefined && this.partitioning.placements(event).length > 1
    this.frame = this.eventFrame(json)
    this.admin.match(event.type, this.visit)
    if (event.audience !== 'admin' && !isAdminOnly(event.type)) {
      if (event.userId !== undefined) this.byUser.match(event.userId, event.type, this.visit)
      if (event.groups !== undefined) for (const room of event.groups) this.byRoom.match(room, event.type, this.visit)
      else if (event.userId === undefined) this.broadcast.match(event.type, this.visit)
    }
    // After delivery, so the dashboards of a revoked session see the event that closes them.
    if (event.control !== undefined) this.control?.(event)
  }

  /** Whether `connection` may receive `event`: the rules `deliver` applies through its indexes. */
  visible (connection: Connection, event: GatewayEvent): boolean {
    if (event.groups !== undefined && this.partitioning.placements(event).length > 1 && this.copyOf(connection, event) !== partitionOf(event.id)) return false
    if (connection.stream === 'admin') return true
    if (event.audience === 'admin' || isAdminOnly(event.type)) return false
    if (event.userId === undefined && event.groups === undefined) return true
    return event.userId === connection.identity.userId || (event.groups?.some((room) => connection.rooms.has(room)) ?? false)
  }

  /** Receives the gateway's own control events (`event.control`), on every instance. */
  onControl (handler: (event: GatewayEvent) => void): void {
    this.control = handler
  }

  /**
   * Closes the connections `matches` selects, among `userId`'s alone when given, and returns
   * them. For revocations: rare enough that scanning every connection for a session is fine.
   */
  closeWhere (matches: (connection: Connection) => boolean, code: number, reason: string, userId?: string): Connection[] {
    const candidates = userId === undefined ? this.connections : this.userConnections.get(userId) ?? []
    const closed = [...candidates].filter((c) => c.open && matches(c))
    for (const connection of closed) connection.close(code, reason)
    return closed
  }

  private copyOf (connection: Connection, event: GatewayEvent): string | undefined {
    return this.partitioning.copyFor(event, connection.stream, connection.identity.userId, connection.rooms)
  }

  /** One bound visitor for all deliveries: no closure is allocated per event or per socket. */
  private readonly visit = (connection: Connection): void => {
    if (connection.lastDelivery === this.sequence) return
    connection.lastDelivery = this.sequence
    if (this.copies && this.copyOf(connection, this.event as GatewayEvent) !== this.partition) return
    // The bus delivers each partition in id order: once past its floor it never comes back below.
    const floor = connection.floor?.get(this.partition)
    if (floor !== undefined) {
      if (compareIds(this.eventId, floor) <= 0) return
      connection.floor?.delete(this.partition)
      if (connection.floor?.size === 0) connection.floor = undefined
    }
    // While a resume replays history, live events wait behind it, in order.
    if (connection.held !== undefined) {
      connection.held.push({ id: this.eventId, frame: this.frame })
      return
    }
    this.sendEvent(connection, this.eventId, this.frame)
  }

  /**
   * Writes one event frame to a connection, live or replayed. A client that stops reading would
   * have every later event queued in this process: past the bound it is cut off instead, told
   * the last event it was sent so it resumes there.
   */
  sendEvent (connection: Connection, id: string, frame: EventFrame): void {
    if (!connection.open) return
    if (connection.socket.bufferedAmount > this.maxBufferedBytes) {
      this.cutOff(connection)
      return
    }
    connection.lastEventId = id
    connection.sendFrame(frame)
    this.counters.deliveries++
  }

  /**
   * Closes a slow consumer 4009, once: after the close its socket is no longer open. Also a
   * resume whose replay would exceed its bound, so that the client comes back for the rest.
   */
  cutOff (connection: Connection, why = 'slow consumer, closing'): void {
    if (!connection.open) return
    this.slowConsumers++
    const { lastEventId } = connection
    connection.log.warn({ bufferedAmount: connection.socket.bufferedAmount, lastEventId }, why)
    const reason = `slow_consumer:${lastEventId}`
    // A close reason is at most 123 bytes (RFC 6455); ws throws on a longer one.
    connection.close(CloseCode.SLOW_CONSUMER, lastEventId === '' || Buffer.byteLength(reason) > 123 ? 'slow_consumer' : reason)
  }

  /**
   * The cleanup sweep (every WEBSOCKET_CLEANUP_INTERVAL), a safety net behind each socket's
   * close listener and ws's own close timer: drops connections whose socket is CLOSED but are
   * still indexed (their close listener never ran), releasing their subscriptions, and
   * terminates sockets found CLOSING by the previous sweep too, so closing for at least one
   * interval. Returns how many connections it dropped.
   */
  sweep (): number {
    let dropped = 0
    for (const connection of this.connections) {
      const state = connection.socket.readyState
      if (state === ReadyState.CLOSING && !connection.closingSwept) {
        connection.closingSwept = true
        continue
      }
      if (state === ReadyState.CLOSING) {
        connection.log.warn('socket stuck closing, terminating')
        connection.socket.terminate()
      } else if (state === ReadyState.CLOSED) {
        connection.log.warn('closed socket still indexed, dropping')
      } else {
        continue
      }
      this.remove(connection)
      dropped++
    }
    return dropped
  }

  /** Terminates connections that missed the previous ping's pong, then pings the rest. */
  heartbeat (): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.log.info('missed heartbeat, terminating')
        connection.socket.terminate()
        this.remove(connection)
        continue
      }
      connection.alive = false
      connection.socket.ping()
    }
  }

  /** Closes every connection with the given code, as on shutdown. */
  closeAll (code: number, reason: string): void {
    for (const connection of this.connections) connection.close(code, reason)
  }

  /**
   * Live events waiting in this instance to be written to a socket: those held back behind a
   * resume's replay. Walks every connection, which the figures read on every scrape and registry
   * beat must not; this is read only when someone asks (`GET /ws/stats`).
   */
  heldEvents (): number {
    let count = 0
    for (const connection of this.connections) count += connection.held?.length ?? 0
    return count
  }

  stats () {
    return {
      connections: this.connections.size,
      users: this.userConnections.size,
      subscriptions: this.subscriptions,
      eventsReceived: this.counters.eventsReceived,
      deliveries: this.counters.deliveries
    }
  }
}
