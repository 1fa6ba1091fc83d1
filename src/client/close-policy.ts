import { ABNORMAL_CLOSURE, CloseCode } from '../wire/close-codes.js'

/** What a client does once the gateway (or the network) closed its socket. */
export interface ClosePolicy {
  /** `at-once`: the first retry does not wait (later ones in a row back off); `never`: stop. */
  retry: 'at-once' | 'backoff' | 'never'
  /** Whether the application hears of it as an `error`: credentials or client behaviour at fault. */
  report: boolean
}

/**
 * The close table of docs/client.md (Reconnect policy). 4001 retries at once because every connect asks `getToken()`
 * for a fresh token; a token refused again closes before `connected` and then backs off.
 * 1009 and 1007 mean the client sent frames the gateway will never take: retrying repeats them.
 * Keyed by every close code of the wire: one added there has no policy until it has one here.
 */
const POLICIES: Readonly<Record<CloseCode | typeof ABNORMAL_CLOSURE, ClosePolicy>> = {
  [CloseCode.UNAUTHORIZED]: { retry: 'at-once', report: true },
  [CloseCode.FORBIDDEN]: { retry: 'never', report: true },
  [CloseCode.TOO_MANY_CONNECTIONS]: { retry: 'backoff', report: false },
  [CloseCode.SLOW_CONSUMER]: { retry: 'backoff', report: true },
  [CloseCode.TRY_AGAIN_LATER]: { retry: 'backoff', report: false },
  [CloseCode.POLICY_VIOLATION]: { retry: 'backoff', report: true },
  [CloseCode.GOING_AWAY]: { retry: 'at-once', report: false },
  [CloseCode.SERVICE_RESTART]: { retry: 'at-once', report: false },
  [CloseCode.MESSAGE_TOO_BIG]: { retry: 'never', report: true },
  [CloseCode.INVALID_PAYLOAD]: { retry: 'never', report: true },
  [ABNORMAL_CLOSURE]: { retry: 'backoff', report: false }
}

/** Codes the table does not name (a proxy's, a future one) back off and retry. */
const DEFAULT_POLICY: ClosePolicy = { retry: 'backoff', report: false }

export function closePolicy (code: number): ClosePolicy {
  return (POLICIES as Readonly<Record<number, ClosePolicy>>)[code] ?? DEFAULT_POLICY
}
