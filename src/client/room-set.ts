import type { RoomRole } from '../wire/rooms.js'
import type { EventgateError } from './errors.js'
import type { RoomMembership } from './types.js'
import { Waiters } from './waiters.js'

interface Entry {
  /** Set once the gateway answered `room_joined`: the room is joined again on every reconnect. */
  role: RoomRole | undefined
  waiters: Waiters<RoomMembership>
}

/**
 * The rooms the application joined, kept across connections, and the groups the token put the
 * current connection in. Only what `join` asked for is remembered: groups come with the token.
 */
export class RoomSet {
  private readonly entries = new Map<string, Entry>()
  private groupList: readonly string[] = []

  get groups (): readonly string[] {
    return this.groupList
  }

  /** The `connected` frame's `groups`. */
  placeGroups (groups: readonly string[]): void {
    this.groupList = [...groups]
  }

  /** A group entered after a reauthentication; false when it was held already. */
  addGroup (room: string): boolean {
    if (this.groupList.includes(room)) return false
    this.groupList = [...this.groupList, room]
    return true
  }

  /** Remembers a room; true when it is new and must be sent to the gateway. */
  add (room: string): boolean {
    if (this.entries.has(room)) return false
    this.entries.set(room, { role: undefined, waiters: new Waiters() })
    return true
  }

  has (room: string): boolean {
    return this.entries.has(room)
  }

  /** Resolves once the gateway has accepted the room (at once if it already had). */
  async joined (room: string): Promise<RoomMembership | undefined> {
    const entry = this.entries.get(room)
    if (entry === undefined) return undefined
    if (entry.role !== undefined) return { room, role: entry.role }
    return await entry.waiters.wait()
  }

  /** The gateway's `room_joined`; ignored for a room forgotten meanwhile. */
  accept (room: string, role: RoomRole): void {
    const entry = this.entries.get(room)
    if (entry === undefined) return
    entry.role = role
    entry.waiters.resolve({ room, role })
  }

  /** A group the token no longer grants. */
  removeGroup (room: string): void {
    this.groupList = this.groupList.filter((group) => group !== room)
  }

  /**
   * Forgets a room: a `leave`, a refusal, a revoked grant. A `join` still waiting rejects with
   * `err`. True when the room was remembered.
   */
  forget (room: string, err: EventgateError): boolean {
    const entry = this.entries.get(room)
    if (entry === undefined) return false
    this.entries.delete(room)
    entry.waiters.reject(err)
    return true
  }

  /** Every pending `join` rejects: the client is closed. */
  abandon (err: EventgateError): void {
    for (const entry of this.entries.values()) entry.waiters.reject(err)
  }

  /** The rooms the gateway has accepted (`true`), or those it has not answered yet. */
  rooms (accepted: boolean): string[] {
    return [...this.entries].filter(([, entry]) => (entry.role !== undefined) === accepted).map(([room]) => room)
  }
}
