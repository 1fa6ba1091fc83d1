import { el } from './dom.js'

/** Rooms offered; the newest seen win. A publisher can name any number of rooms. */
const MAX_ROOMS = 50

/** The rooms seen in events, offered as `room=<name>` completions of the filter. */
export class RoomSuggestions {
  private readonly seen = new Set<string>()

  constructor (private readonly list: HTMLDataListElement) {}

  note (groups: readonly string[] | undefined): void {
    if (groups === undefined || groups.every((room) => this.seen.has(room))) return
    for (const room of groups) {
      this.seen.delete(room)
      this.seen.add(room)
    }
    for (const room of this.seen) {
      if (this.seen.size <= MAX_ROOMS) break
      this.seen.delete(room)
    }
    this.list.replaceChildren(...[...this.seen].map((room) => {
      const option = el('option')
      option.value = `room=${room}`
      return option
    }))
  }
}
