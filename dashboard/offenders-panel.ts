import { el } from './dom.js'
import type { Offender, Offenders } from './offenders.js'

/** Rows per list: the worst few are what an operator acts on. */
const TOP = 5

/**
 * The top offending addresses and users, with counts. A click on one asks for the list to be
 * filtered to it (`address=…`, `user=…`).
 */
export class OffendersPanel {
  constructor (
    private readonly tally: Offenders,
    private readonly addresses: HTMLOListElement,
    private readonly users: HTMLOListElement,
    onPick: (filter: string) => void,
    /** The filter in force: its offender is shown pressed. */
    private readonly current: () => string
  ) {
    for (const list of [addresses, users]) {
      list.addEventListener('click', (e) => {
        const button = e.target instanceof Element ? e.target.closest('button') : null
        if (button?.dataset.filter !== undefined) onPick(button.dataset.filter)
      })
    }
  }

  render (nowMs: number = Date.now()): void {
    const { addresses, users } = this.tally.top(TOP, nowMs)
    this.fill(this.addresses, addresses, 'address', 'no failed authentications')
    this.fill(this.users, users, 'user', 'none')
  }

  private fill (list: HTMLOListElement, offenders: Offender[], field: string, empty: string): void {
    if (offenders.length === 0) {
      list.replaceChildren(el('li', 'hint', empty))
      return
    }
    list.replaceChildren(...offenders.map(({ key, count }) => {
      const button = el('button', 'offender')
      button.type = 'button'
      // Spaces would split the filter's terms: a key with one is matched by its first word.
      button.dataset.filter = `${field}=${key.split(/\s+/)[0] ?? key}`
      button.dataset.key = key
      button.dataset.count = String(count)
      button.title = `show only ${field} ${key}`
      button.setAttribute('aria-pressed', String(this.current().trim() === button.dataset.filter))
      button.append(el('span', 'offender-key', key), el('span', 'offender-count num', String(count)))
      const item = el('li')
      item.append(button)
      return item
    }))
  }
}
