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
 */
const POLICIES: Readonly<Record<number, ClosePolicy>> = {
  4001: { retry: 'at-once', report: true },
  4003: { retry: 'never', report: true },
  4008: { retry: 'backoff', report: false },
  4009: { retry: 'backoff', report: true },
  1013: { retry: 'backoff', report: false },
  1008: { retry: 'backoff', report: true },
  1001: { retry: 'at-once', report: false },
  1012: { retry: 'at-once', report: false },
  1009: { retry: 'never', report: true },
  1007: { retry: 'never', report: true },
  1006: { retry: 'backoff', report: false }
}

/** Codes the table does not name (a proxy's, a future one) back off and retry. */
const DEFAULT_POLICY: ClosePolicy = { retry: 'backoff', report: false }

export function closePolicy (code: number): ClosePolicy {
  return POLICIES[code] ?? DEFAULT_POLICY
}
