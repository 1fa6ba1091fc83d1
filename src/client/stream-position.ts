import { compareIds, partitionOf } from '../wire/event-id.js'
import { formatPosition, parsePosition, type Position } from '../wire/position.js'

/**
 * Where the application's stream stands: for each partition, the last event id delivered from
 * it, as received. Ids are ordered within a partition only, and a gateway interleaves its
 * partitions in any order, so each event is compared with its own partition's entry alone.
 */
export class StreamPosition {
  private readonly entries: Position = new Map()
  /**
   * Partitions whose entry is a `subscribed` reply's place, not an event delivered: the
   * application has seen nothing of them since the last truncation, so an event there is never
   * a replay of one it saw. After a truncated resume the events the history still holds come
   * below the reply's position, and they are delivered, as the truncation promises.
   */
  private readonly placed = new Set<string>()
  private last: string | undefined

  /** The id of the last event delivered, whatever its partition. */
  get lastId (): string | undefined {
    return this.last
  }

  /** What a resume sends as `since`: every entry, or undefined when there is none. */
  get token (): string | undefined {
    return this.entries.size === 0 ? undefined : formatPosition(this.entries)
  }

  /**
   * Takes the id of an event about to be delivered: false when it is at or before its
   * partition's last delivered id (a resume overlapping what came before the socket dropped).
   */
  advance (id: string): boolean {
    const partition = partitionOf(id)
    const entry = this.entries.get(partition)
    if (entry !== undefined && !this.placed.has(partition) && compareIds(id, entry) <= 0) return false
    this.entries.set(partition, id)
    this.placed.delete(partition)
    this.last = id
    return true
  }

  /**
   * A `subscribed` reply's position: where the partitions the client has no entry for start,
   * so events published while the socket is down are not lost. A token that does not parse
   * is ignored.
   */
  place (token: unknown): void {
    const position = parsePosition(token)
    if (position === undefined) return
    for (const [partition, id] of position) {
      if (this.entries.has(partition)) continue
      this.entries.set(partition, id)
      this.placed.add(partition)
    }
  }

  /** The gateway could not place the resume: what it sends from here on is taken as it comes. */
  clear (): void {
    this.entries.clear()
    this.placed.clear()
  }
}
