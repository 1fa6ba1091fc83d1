/**
 * The steps of a shutdown, each given by what it concerns; `shutDown` alone says in which
 * order they run and how long the sockets have to answer.
 */
export interface ShutdownSteps {
  /** Refuses new work from now on: health answers 503 `draining`, new requests and upgrades are refused. */
  drain: () => void
  /** Closes every open socket 1001; resolves once each has closed, answered or terminated. */
  closeSockets: () => Promise<void>
  /** Ends, without waiting for their answer, the sockets still open when the grace is over. */
  terminate: () => void
  /** Takes this instance out of the registry, so no instance counts it any longer. Never rejects. */
  deregister: () => Promise<void>
}

/**
 * Drain, close every socket 1001, wait out the grace, terminate what did not answer, deregister.
 *
 * The drain comes first so health is 503 before the first socket closes: a client told to
 * reconnect elsewhere is not taken back here. The listener stays open meanwhile (the server
 * closes it once this resolves), so health checks and reconnects get a 503 saying `draining`
 * rather than a refused connection. A client that never answers its close (asleep, or not
 * reading) would hold the shutdown for ws's close timeout (30 s), past SHUTDOWN_TIMEOUT: half of
 * that timeout is the sockets' grace, the other half is left for the rest of the shutdown.
 * The registry entry goes last: until then its figures still count the sockets being closed.
 * The entry point bounds the whole close by SHUTDOWN_TIMEOUT, and exits 1 past it.
 */
export async function shutDown (steps: ShutdownSteps, shutdownTimeoutMs: number): Promise<void> {
  steps.drain()
  const closed = steps.closeSockets()
  const grace = setTimeout(steps.terminate, shutdownTimeoutMs / 2)
  try {
    await closed
  } finally {
    clearTimeout(grace)
  }
  await steps.deregister()
}
