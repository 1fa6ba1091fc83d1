/**
 * Runs one socket's frame handlers strictly in arrival order. Most handlers are synchronous and
 * run at once; while an asynchronous one is pending (reauthenticate checks the store), later
 * frames wait behind it, so no reply overtakes the reply to an earlier request.
 */
export class FrameQueue {
  private tail: Promise<void> | undefined

  constructor (private readonly onError: (err: unknown) => void) {}

  run (handler: () => void | Promise<void>): void {
    const work = this.tail === undefined ? handler() : this.tail.then(handler)
    if (!(work instanceof Promise)) return
    const tail: Promise<void> = work.catch(this.onError).then(() => {
      if (this.tail === tail) this.tail = undefined
    })
    this.tail = tail
  }
}
