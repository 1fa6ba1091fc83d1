/** Where the gateway was told to listen: PORT and HOST as configured. */
export interface ListenTarget {
  host: string
  port: number
}

/**
 * What an operator changes for each way listening fails: a variable to set, said in one line.
 * Any other error is no configuration mistake and keeps its stack.
 */
const FAILURES: Record<string, (target: ListenTarget) => string> = {
  EADDRINUSE: ({ host, port }) => `port ${port} on ${host} is already in use: set PORT to a free port, or stop what holds it`,
  EACCES: ({ port }) => `no permission to listen on port ${port}: set PORT to 1024 or above, or give the process the right to bind it`,
  EADDRNOTAVAIL: ({ host }) => `HOST=${host} is not an address of this machine: set HOST to one of its addresses, or to 0.0.0.0 for every interface`,
  ENOTFOUND: ({ host }) => `HOST=${host} does not resolve to an address: set HOST to an address of this machine, or to 0.0.0.0 for every interface`,
  EAI_AGAIN: ({ host }) => `HOST=${host} could not be resolved (the name service did not answer): set HOST to an address of this machine`
}

/** The one line that says which variable to change, or undefined when `err` is no listen mistake. */
export function listenFailure (err: unknown, target: ListenTarget): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' && Object.hasOwn(FAILURES, code) ? FAILURES[code]?.(target) : undefined
}
