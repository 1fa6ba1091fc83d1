/**
 * Group commit: the items submitted for one group within one turn of the event loop are written
 * by one call, in the order submitted, and each submitter gets its own item's result. Concurrent
 * publishes to one partition thus cost one script call and one round trip (and one WAIT) between
 * them instead of one each, while each is still answered only once its call has succeeded.
 *
 * A group is flushed on `setImmediate`, after the I/O callbacks of the turn: requests whose bodies
 * arrived together are written together. One that grows past `maxWeight` (drafts, say) is sent at
 * once and the next items start another call, so no call grows without bound (a script blocks
 * Redis while it runs). A call that fails rejects exactly the items it carried.
 */
export class GroupCommit<Item, Result> {
  private readonly pending = new Map<string, Batch<Item, Result>>()
  private scheduled = false

  /**
   * `write` writes a group's items in one call and resolves with one result per item, in order.
   */
  constructor (private readonly write: (group: string, items: readonly Item[]) => Promise<readonly Result[]>, private readonly maxWeight: number, private readonly soloWeight = maxWeight) {}

  /** Resolves with the item's result once the call that carried it has succeeded. */
  async submit (group: string, item: Item, weight: number): Promise<Result> {
    let batch = this.pending.get(group)
    if (weight >= this.soloWeight) {
      if (batch !== undefined) this.send(group, batch)
      return await new Promise<Result>((resolve, reject) => { this.send(group, { items: [item], waiters: [{ resolve, reject }], weight }) })
    }
    if (batch !== undefined && batch.weight + weight > this.maxWeight) {
      this.send(group, batch)
      batch = undefined
    }
    if (batch === undefined) {
      batch = { items: [], waiters: [], weight: 0 }
      this.pending.set(group, batch)
      this.schedule()
    }
    batch.items.push(item)
    batch.weight += weight
    return await new Promise<Result>((resolve, reject) => { batch.waiters.push({ resolve, reject }) })
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      for (const [group, batch] of this.pending) this.send(group, batch)
    })
  }

  private send (group: string, batch: Batch<Item, Result>): void {
    this.pending.delete(group)
    const { items, waiters } = batch
    this.write(group, items).then((results) => {
      if (results.length !== waiters.length) throw new Error(`${results.length} results for ${waiters.length} writes`)
      waiters.forEach((waiter, i) => { waiter.resolve(results[i] as Result) })
    }).catch((err: unknown) => {
      for (const waiter of waiters) waiter.reject(err)
    })
  }
}

interface Batch<Item, Result> {
  items: Item[]
  waiters: Array<{ resolve: (result: Result) => void, reject: (err: unknown) => void }>
  weight: number
}
