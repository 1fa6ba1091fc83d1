import type { Socket } from '../../src/connection.js'
import type { Log } from '../../src/logging.js'

/**
 * A stand-in for a `ws` socket that records what the core does to it, for the core's unit tests:
 * the frames as written (the very objects), the closes, a terminate, the pings. Nothing crosses a
 * network; behaviour that does is tested on real sockets.
 */
export class RecordingSocket implements Socket {
  readyState = 1
  bufferedAmount = 0
  readonly sent: Array<string | Buffer> = []
  readonly closed: Array<[number, string]> = []
  terminated = false
  pings = 0
  send (data: string | Buffer): void { this.sent.push(data) }
  close (code: number, reason: string): void { this.closed.push([code, reason]) }
  terminate (): void { this.terminated = true; this.readyState = 3 }
  ping (): void { this.pings++ }
}

/** A logger that writes nothing. */
export const quietLog: Log = { error () {}, warn () {}, info () {}, debug () {}, child: () => quietLog }
