type Listener = (...args: never[]) => void

/**
 * A minimal typed emitter (Node's EventEmitter is not in browsers). A listener that throws
 * does not keep the others from running: `onThrow` hears of it.
 */
export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>()

  constructor (private readonly onThrow: (err: unknown, name: keyof Events) => void) {}

  on<K extends keyof Events> (name: K, listener: Events[K]): () => void {
    let set = this.listeners.get(name)
    if (set === undefined) this.listeners.set(name, set = new Set())
    set.add(listener)
    return () => this.off(name, listener)
  }

  off<K extends keyof Events> (name: K, listener: Events[K]): void {
    this.listeners.get(name)?.delete(listener)
  }

  has (name: keyof Events): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0
  }

  emit<K extends keyof Events> (name: K, ...args: Parameters<Events[K]>): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as (...a: Parameters<Events[K]>) => void)(...args)
      } catch (err) {
        this.onThrow(err, name)
      }
    }
  }
}
