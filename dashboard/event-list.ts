import type { GatewayEvent } from '../src/client/index.js'
import { clock, el } from './dom.js'

/** Longest `data` preview in a row; the full event is one click away. */
const PREVIEW_CHARS = 160

export const isSecurityEvent = (type: string): boolean => type.startsWith('security.')

/** What the admin view's side panel gathers: the instances' own news beside the security events. */
export const isOperatorEvent = (type: string): boolean => isSecurityEvent(type) || type.startsWith('system.')

/**
 * Who an event was delivered to: its user and its rooms (`#room`), or else everyone or admins.
 */
export function audienceOf (event: GatewayEvent): string {
  const targets = [...(event.userId === undefined ? [] : [event.userId]), ...(event.groups ?? []).map((room) => `#${room}`)]
  if (targets.length > 0) return targets.join(' ')
  return event.audience === 'admin' ? 'admins' : 'broadcast'
}

/**
 * A newest-first list of at most `limit` rendered events. Arrivals are queued and rendered
 * once per animation frame, so a burst costs one layout rather than one per event. The queue
 * is bounded by the same limit: while paused, or while a background tab gets no frames, only
 * the newest events are kept and the rest are counted as skipped.
 */
export class EventList {
  private readonly queue: GatewayEvent[] = []
  private readonly events = new WeakMap<Element, GatewayEvent>()
  private paused = false
  private scheduled = false
  private skipped = 0

  constructor (
    private readonly list: HTMLOListElement,
    private readonly limit: number,
    private readonly onSelect: (event: GatewayEvent) => void,
    private readonly onStatus: (status: string) => void = () => {}
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

  add (event: GatewayEvent): void {
    this.queue.push(event)
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
    for (let i = this.queue.length - 1; i >= 0; i--) fragment.append(this.row(this.queue[i] as GatewayEvent))
    this.queue.length = 0
    this.list.prepend(fragment)
    while (this.list.childElementCount > this.limit) this.list.lastElementChild?.remove()
    this.report()
  }

  private row (event: GatewayEvent): HTMLLIElement {
    const row = el('li', isSecurityEvent(event.type) ? 'event security' : 'event')
    row.tabIndex = 0
    row.dataset.type = event.type
    const data = JSON.stringify(event.data)
    const audience = audienceOf(event)
    const preview = el('span', 'event-data')
    if (event.sender !== undefined) preview.append(el('span', 'event-sender', `from ${event.sender}`), ' ')
    preview.append(data.length > PREVIEW_CHARS ? `${data.slice(0, PREVIEW_CHARS)}…` : data)
    const who = el('span', 'event-user', audience)
    who.title = audience
    row.append(el('time', 'event-time', clock(event.timestamp)), el('span', 'event-type', event.type), who, preview)
    this.events.set(row, event)
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
    const shown = this.list.childElementCount
    const parts = [`${shown} shown`]
    if (this.queue.length > 0) parts.push(`${this.queue.length} waiting`)
    if (this.skipped > 0) parts.push(`${this.skipped} skipped`)
    this.onStatus(`${parts.join(' · ')}${this.paused ? ' · paused' : ''}`)
  }
}
