/**
 * Runs one socket's frame handlers strictly in arrival order. Most handlers are synchronous and
 * run at once; while an asynchronous one is pending (reauthenticate checks the store), later
 * frames wait behind it, so no reply overtakes the reply to an earlier request.
 */
export class FrameQueue<S = undefined> {
  private tail: Promise<void> | undefined

  /** `onError` receives `subject` too, so one function serves every socket's queue. */
  constructor (private readonly onError: (err: unknown, subject: S) => void, private readonly subject: S) {}

  run (handler: () => void | Promise<void>): void {
    const work = this.tail === undefined ? handler() : this.tail.then(handler)
    if (!(work instanceof Promise)) return
    const tail: Promise<void> = work.catch((err: unknown) => { this.onError(err, this.subject) }).then(() => {
      if (this.tail === tail) this.tail = undefined
    })
    this.tail = tail
  }
}
