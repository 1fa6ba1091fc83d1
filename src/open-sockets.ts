import type { WebSocket } from 'ws'

type Socket = Pick<WebSocket, 'readyState' | 'CLOSED' | 'once' | 'terminate'>

/**
 * The sockets handed to sessions, from then until their 'close', so a shutdown can wait for
 * their closing handshakes and end those that never answer. It counts the sockets a session
 * refused as it opened too: they are closing, and hold the listener open until they have.
 */
export class OpenSockets {
  private readonly sockets = new Set<Socket>()

  /** `release` gives back a user's connection slot. */
  constructor (private readonly release: (userId: string, connectionId: string) => void) {}

  get size (): number {
    return this.sockets.size
  }

  add (socket: Socket): void {
    this.sockets.add(socket)
  }

  /** `socket` has closed: it is waited for no longer, and its user's slot is given back. */
  closed (socket: Socket, userId: string, connectionId: string): void {
    this.sockets.delete(socket)
    this.release(userId, connectionId)
  }

  /**
   * Resolves once every socket held now has closed. One already CLOSED has emitted its 'close'
   * (a close listener threw, say) and is not waited for. Not events.once: it rejects on the
   * 'error' a socket may emit before its 'close'.
   */
  async allClosed (): Promise<void> {
    await Promise.all(Array.from(this.sockets, async (socket) => {
      if (socket.readyState !== socket.CLOSED) await new Promise((resolve) => socket.once('close', resolve))
    }))
  }

  terminate (): void {
    for (const socket of this.sockets) socket.terminate()
  }
}
