import { isEventId, partitionOf } from './event-id.js'

/**
 * Where a stream stands: for each partition it reads, the id of the last event delivered from
 * it (or the place a new subscriber starts at). On the wire it is the ids joined by commas, in
 * any order, one per partition: `p3:1732380000000-4,b:1732380000012-0`. A gateway that runs one
 * partition writes it as one id, `1732380000000-4`.
 */
export type Position = Map<string, string>

/** REDIS_PARTITIONS allows 256 user partitions, plus the broadcast and admin ones. */
export const MAX_POSITION_ENTRIES = 258

/** The position a token names, or undefined when it is not one (or names a partition twice). */
export function parsePosition (token: unknown): Position | undefined {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_POSITION_ENTRIES * 40) return undefined
  const ids = token.split(',')
  if (ids.length > MAX_POSITION_ENTRIES) return undefined
  const position: Position = new Map()
  for (const id of ids) {
    if (!isEventId(id)) return undefined
    const partition = partitionOf(id)
    if (position.has(partition)) return undefined
    position.set(partition, id)
  }
  return position
}

export function formatPosition (position: Position): string {
  return [...position.values()].join(',')
}
