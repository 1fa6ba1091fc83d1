import { SLOTS, slotOf } from './cluster-slot.js'
import { type EventDraft, isAdminOnly } from './events.js'
import { ONLY_PARTITION } from './wire/event-id.js'
import type { Stream } from './wire/streams.js'

/** Receives every broadcast (an event with no user, user audience) and user-less control event. */
export const BROADCAST_PARTITION = 'b'
/** Receives admin-audience events with no user, which only /ws/admin streams see. */
export const ADMIN_PARTITION = 'a'

/** REDIS_PARTITIONS' bounds: a position names every partition an admin stream reads. */
export const MAX_USER_PARTITIONS = 256

/**
 * How the event log is split (REDIS_PARTITIONS). With one partition, `p0` holds every event, as
 * on the embedded bus. With more, an event addressed to a user goes to `p<fnv1a(userId) mod
 * count>`, so each user's events share one ordered stream; a broadcast goes to `b`, an
 * admin-audience event with no user to `a`. Each partition's keys share a hash tag picked so that
 * partition `i`'s slot falls in the i-th of `count` equal slot ranges: a cluster whose masters
 * own equal ranges holds an equal share of partitions on each.
 */
export class Partitioning {
  /** Every partition, user partitions first. */
  readonly all: readonly string[]
  private readonly tags = new Map<string, string>()

  constructor (readonly count: number) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_USER_PARTITIONS) throw new RangeError(`a partition count is an integer from 1 to ${MAX_USER_PARTITIONS}`)
    const users = Array.from({ length: count }, (_, i) => `p${i}`)
    this.all = count === 1 ? users : [...users, BROADCAST_PARTITION, ADMIN_PARTITION]
    if (count === 1) this.tags.set(ONLY_PARTITION, ONLY_PARTITION)
    else users.forEach((partition, i) => this.tags.set(partition, balancedTag(partition, i, count)))
    this.tags.set(BROADCAST_PARTITION, BROADCAST_PARTITION)
    this.tags.set(ADMIN_PARTITION, ADMIN_PARTITION)
  }

  get single (): boolean {
    return this.count === 1
  }

  /**
   * The partition an event is published to. A control event with no user (a session revoked
   * whose user is not known) goes to the broadcasts, which every instance reads, whoever sees it.
   */
  of (draft: Pick<EventDraft, 'userId' | 'audience' | 'type' | 'control'>): string {
    if (this.single) return ONLY_PARTITION
    if (draft.userId !== undefined) return this.ofUser(draft.userId)
    if (draft.control !== undefined) return BROADCAST_PARTITION
    return draft.audience === 'admin' || isAdminOnly(draft.type) ? ADMIN_PARTITION : BROADCAST_PARTITION
  }

  ofUser (userId: string): string {
    return this.single ? ONLY_PARTITION : `p${fnv1a(userId) % this.count}`
  }

  /** A room's partition: hashed apart from users (`#` cannot start a user's events' key). */
  ofRoom (room: string): string {
    return this.single ? ONLY_PARTITION : `p${fnv1a(`#${room}`) % this.count}`
  }

  /**
   * The partitions an event is written to, one copy in each: its user's, then each of its
   * rooms', in the order named, each once; one partition for an event with no rooms. Each copy
   * reaches the targets of its partition, so every instance reads only its members' partitions.
   */
  placements (draft: Pick<EventDraft, 'userId' | 'audience' | 'type' | 'control' | 'groups'>): string[] {
    if (this.single || draft.groups === undefined) return [this.of(draft)]
    const placed = draft.userId === undefined ? [] : [this.ofUser(draft.userId)]
    for (const room of draft.groups) {
      const partition = this.ofRoom(room)
      if (!placed.includes(partition)) placed.push(partition)
    }
    return placed
  }

  /**
   * The partition whose copy of an event a receiver takes, when the event is written to several
   * (`placements`): the one of the first target it qualifies by, its user before its rooms in
   * the order published; undefined when it qualifies by none. An admin stream qualifies by every
   * target, so takes the first copy. Live and replayed alike, each receiver sees the event once.
   */
  copyFor (event: Pick<EventDraft, 'userId' | 'audience' | 'type' | 'control' | 'groups'>, stream: Stream, userId: string, rooms: ReadonlyMap<string, unknown>): string | undefined {
    if (stream === 'admin') return this.placements(event)[0]
    if (event.userId !== undefined && event.userId === userId) return this.ofUser(userId)
    const room = event.groups?.find((g) => rooms.has(g))
    return room === undefined ? undefined : this.ofRoom(room)
  }

  /** What a stream reads: an admin stream every partition, a user's its own and the broadcasts. */
  read (stream: Stream, userId: string): readonly string[] {
    if (this.single || stream === 'admin') return this.all
    return [this.ofUser(userId), BROADCAST_PARTITION]
  }

  /**
   * What a stream receives, partition by partition: the whole partition (no user), or only one
   * user's events of it. A user stream receives the user's events of their partition and every
   * broadcast; with one partition, the whole of it, as every stream there does.
   */
  interests (stream: Stream, userId: string): Interest[] {
    if (this.single || stream === 'admin') return this.all.map((partition) => [partition, undefined])
    return [[this.ofUser(userId), userRoute(userId)], [BROADCAST_PARTITION, undefined]]
  }

  /** What a member of a room receives: the room's events of its partition (with one, the whole). */
  roomInterest (room: string): Interest {
    return this.single ? [ONLY_PARTITION, undefined] : [this.ofRoom(room), roomRoute(room)]
  }

  /** The hash tag of a partition's keys and channel. */
  tag (partition: string): string {
    const tag = this.tags.get(partition)
    if (tag === undefined) throw new RangeError(`no partition ${partition}`)
    return tag
  }

  /** An id as the wire carries it: with its partition, unless there is only one. */
  wireId (partition: string, local: string): string {
    return this.single ? local : `${partition}:${local}`
  }
}

/**
 * A partition, and the route of it a socket receives: the events of one user (`u:<userId>`) or
 * of one room (`r:<room>`), each on its own channel; undefined for the whole partition.
 */
export type Interest = [partition: string, route: string | undefined]

export function userRoute (userId: string): string {
  return `u:${userId}`
}

export function roomRoute (room: string): string {
  return `r:${room}`
}

/** The first tag `p<i>.<k>` whose slot falls in the i-th of `count` equal slot ranges. */
function balancedTag (partition: string, index: number, count: number): string {
  const low = Math.floor(index * SLOTS / count)
  const high = Math.floor((index + 1) * SLOTS / count)
  for (let k = 0; ; k++) {
    const tag = `${partition}.${k}`
    const slot = slotOf(`{${tag}}`)
    if (slot >= low && slot < high) return tag
  }
}

/** 32-bit FNV-1a over the UTF-8 bytes: stable across processes and languages. */
export function fnv1a (text: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash
}
