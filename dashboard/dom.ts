/** The element with `id`, or a clear failure when the page and the script disagree. */
export function byId<T extends HTMLElement> (id: string, type: new () => T): T {
  const element = document.getElementById(id)
  if (!(element instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`)
  return element
}

/**
 * An element whose text is set with `textContent`: event fields come from publishers and must
 * never be parsed as markup.
 */
export function el<K extends keyof HTMLElementTagNameMap> (tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (className !== undefined) element.className = className
  if (text !== undefined) element.textContent = text
  return element
}

/** A dotted name as text nodes with a line-break opportunity after each dot: wrapped whole, never cut. */
function breakable (name: string): Node[] {
  return name.split(/(?<=\.)/).flatMap((part, i) => i === 0 ? [document.createTextNode(part)] : [document.createElement('wbr'), document.createTextNode(part)])
}

/** Replaces a table body's rows in one DOM write; every column but the first holds figures. */
export function fillRows (body: HTMLTableSectionElement, rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  const fragment = document.createDocumentFragment()
  for (const cells of rows) {
    const row = el('tr')
    cells.forEach((cell, i) => {
      const td = el('td', i === 0 ? 'name' : 'num')
      if (i === 0) {
        td.title = String(cell)
        td.append(...breakable(String(cell)))
      } else {
        td.textContent = String(cell)
      }
      row.append(td)
    })
    fragment.append(row)
  }
  body.replaceChildren(fragment)
}
