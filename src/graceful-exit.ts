import type { Log } from './logging.js'

/** The part of `process` the exit rules use: a test hands in an emitter of its own. */
export interface ExitingProcess {
  on: ((event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void) => unknown) &
  ((event: 'uncaughtException', listener: (error: Error) => void) => unknown) &
  ((event: 'unhandledRejection', listener: (reason: unknown) => void) => unknown)
  exit: (code: number) => void
}

export interface GracefulExitOptions {
  /** SHUTDOWN_TIMEOUT: the longest the close may take before the process exits 1 regardless. */
  timeoutMs: number
  log: Pick<Log, 'error' | 'warn' | 'info'>
  /** The one shutdown path (`app.close()`): drain, close the sockets 1001, leave the registry. */
  close: () => Promise<void>
}

export interface GracefulExit {
  /** Closes as a signal does, then exits `code` (1 once anything went wrong on the way). */
  stop: (code: number) => void
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

/**
 * Who ends the process, and how. A signal, an exception nothing caught and a promise rejection
 * nobody handled all take the same path: the gateway closes (its sockets get 1001, its registry
 * entry goes), bounded by SHUTDOWN_TIMEOUT. A crash is logged once, here, and exits 1 even when
 * the close goes well: the process is in a state nobody planned for, and its supervisor should
 * know. An error during the close is logged and makes the exit 1, but starts no second close.
 * A second signal ends the process at once (exit 1): an operator who asks twice means it.
 */
export function gracefulExit (proc: ExitingProcess, { timeoutMs, log, close }: GracefulExitOptions): GracefulExit {
  let closing = false
  let exited = false
  let exitCode = 0
  let timer: NodeJS.Timeout | undefined

  const exit = (code: number): void => {
    if (exited) return
    exited = true
    clearTimeout(timer)
    proc.exit(code)
  }

  const stop = (code: number): void => {
    exitCode = Math.max(exitCode, code)
    if (closing) return
    closing = true
    // A close can hang (a client that never answers its close frame, a request that never
    // ends): SHUTDOWN_TIMEOUT bounds it.
    timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out')
      exit(1)
    }, timeoutMs)
    close().then(() => { exit(exitCode) }, (err: unknown) => {
      log.error({ err }, 'shutdown failed')
      exit(1)
    })
  }

  const crashed = (origin: 'uncaughtException' | 'unhandledRejection') => (err: unknown): void => {
    log.error({ err, origin }, closing ? `${origin} while shutting down` : `${origin}: shutting down`)
    stop(1)
  }

  for (const signal of SIGNALS) {
    proc.on(signal, () => {
      if (closing) {
        log.warn({ signal }, 'second signal: exiting at once')
        exit(1)
        return
      }
      log.info({ signal }, 'shutting down')
      stop(0)
    })
  }
  proc.on('uncaughtException', crashed('uncaughtException'))
  proc.on('unhandledRejection', crashed('unhandledRejection'))
  return { stop }
}
