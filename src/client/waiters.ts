/** Promises handed out to callers waiting for one outcome, settled together. */
export class Waiters<T> {
  private pending: Array<{ resolve: (value: T) => void, reject: (err: Error) => void }> = []

  async wait (): Promise<T> {
    return await new Promise<T>((resolve, reject) => { this.pending.push({ resolve, reject }) })
  }

  resolve (value: T): void {
    for (const waiter of this.take()) waiter.resolve(value)
  }

  reject (err: Error): void {
    for (const waiter of this.take()) waiter.reject(err)
  }

  private take (): Array<{ resolve: (value: T) => void, reject: (err: Error) => void }> {
    const taken = this.pending
    this.pending = []
    return taken
  }
}
