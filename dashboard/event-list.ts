import type { GatewayEvent } from '../src/client/index.js'
import type { EventTest } from './event-filter.js'
import { dividerRow, eventRow } from './event-row.js'

/** What the list holds: events, and the seams of reconnects between them. */
type Entry = GatewayEvent | { divider: string }

export interface ListStatus { rows: number, shown: number, waiting: number, skipped: number, paused: boolean }

/**
 * A newest-first list of at most `limit` rendered events. Arrivals are queued and rendered
 * once per animation frame, so a burst costs one layout rather than one per event. The queue
 * is bounded by the same limit: while paused, or while a background tab gets no frames, only
 * the newest events are kept and the rest are counted as skipped. The filter hides rows
 * rather than dropping them, so clearing it brings them back.
 */
export class EventList {
  private readonly queue: Entry[] = []
  private readonly events = new WeakMap<Element, GatewayEvent>()
  private filter: EventTest | undefined
  private paused = false
  private scheduled = false
  private skipped = 0

  constructor (
    private readonly list: HTMLOListElement,
    private readonly limit: number,
    private readonly onSelect: (event: GatewayEvent) => void,
    private readonly onStatus: (status: ListStatus) => void = () => {}
  ) {
    list.addEventListener('click', (e) => { this.select(e.target) })
    list.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault()
        this.select(e.target)
      }
    })
  }

  get isPaused (): boolean {
    return this.paused
  }

  add (entry: Entry): void {
    this.queue.push(entry)
    if (this.queue.length > this.limit) {
      this.queue.shift()
      this.skipped++
    }
    if (this.paused) this.report()
    else this.schedule()
  }

  pause (): void {
    this.paused = true
    this.report()
  }

  resume (): void {
    this.paused = false
    this.schedule()
  }

  clear (): void {
    this.queue.length = 0
    this.skipped = 0
    this.list.replaceChildren()
    this.report()
  }

  /** Shows only the rows `test` holds for (all with none); dividers always stay. */
  setFilter (test: EventTest | undefined): void {
    this.filter = test
    for (const row of Array.from(this.list.children)) {
      const event = this.events.get(row)
      if (event !== undefined) (row as HTMLElement).hidden = !this.passes(event)
    }
    this.report()
  }

  private passes (event: GatewayEvent): boolean {
    return this.filter === undefined || this.filter(event)
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    requestAnimationFrame(() => {
      this.scheduled = false
      if (!this.paused) this.render()
    })
  }

  private render (): void {
    const fragment = document.createDocumentFragment()
    for (let i = this.queue.length - 1; i >= 0; i--) fragment.append(this.row(this.queue[i] as Entry))
    this.queue.length = 0
    this.list.prepend(fragment)
    while (this.list.childElementCount > this.limit) this.list.lastElementChild?.remove()
    this.report()
  }

  private row (entry: Entry): HTMLLIElement {
    if ('divider' in entry) return dividerRow(entry.divider)
    const row = eventRow(entry)
    row.hidden = !this.passes(entry)
    this.events.set(row, entry)
    return row
  }

  private select (target: EventTarget | null): void {
    const row = target instanceof Element ? target.closest('li') : null
    const event = row === null ? undefined : this.events.get(row)
    if (row === null || event === undefined) return
    this.list.querySelector('li.selected')?.classList.remove('selected')
    row.classList.add('selected')
    this.onSelect(event)
  }

  private report (): void {
    const rows = this.list.querySelectorAll('li.event').length
    const shown = this.list.querySelectorAll('li.event:not([hidden])').length
    this.onStatus({ rows, shown, waiting: this.queue.filter((e) => !('divider' in e)).length, skipped: this.skipped, paused: this.paused })
  }
}

/** `12 shown · 3 waiting · paused`, with the rows the filter hides. */
export function statusText ({ rows, shown, waiting, skipped, paused }: ListStatus): string {
  const parts = [`${shown} shown`]
  if (rows > shown) parts.push(`${rows - shown} filtered out`)
  if (waiting > 0) parts.push(`${waiting} waiting`)
  if (skipped > 0) parts.push(`${skipped} skipped`)
  return `${parts.join(' · ')}${paused ? ' · paused' : ''}`
}
