import { ABNORMAL_CLOSURE, CloseCode } from '../wire/close-codes.js'

type CloseCodeName = keyof typeof CloseCode

interface CloseSpec {
  /** The close frame's reasons, as docs/protocol.md lists them; none where the WebSocket layer closes. */
  reasons: string[]
  action: string
}

/** Close codes have no place of their own in AsyncAPI: they travel as the `x-close-codes` extension. */
export interface CloseCodeEntry extends CloseSpec {
  code: number
  name: string
}

/** What each close code means to a client; a code the table does not name yet is listed bare. */
const specs: Partial<Record<CloseCodeName, CloseSpec>> = {
  GOING_AWAY: { reasons: ['server_shutting_down'], action: 'Reconnect at once: another instance will take you' },
  POLICY_VIOLATION: { reasons: ['rate_limited', 'too_many_auth_failures', 'auth_frame_budget'], action: 'Fix the client; back off before reconnecting' },
  INVALID_PAYLOAD: { reasons: [], action: 'A text frame that is not valid UTF-8: send JSON text' },
  MESSAGE_TOO_BIG: { reasons: [], action: 'A frame larger than WEBSOCKET_MAX_PAYLOAD: send smaller frames' },
  SERVICE_RESTART: { reasons: [], action: 'Reconnect at once' },
  TRY_AGAIN_LATER: { reasons: ['server_full', 'too_many_unauthenticated', 'revocation_unavailable'], action: 'Back off, then retry' },
  UNAUTHORIZED: {
    reasons: ['token_invalid', 'token_expired', 'ticket_invalid', 'auth_timeout', 'token_user_mismatch', 'session_revoked', 'token_revoked'],
    action: 'Get a new token (or ticket), then reconnect'
  },
  FORBIDDEN: { reasons: ['admin_required'], action: 'Do not retry' },
  TOO_MANY_CONNECTIONS: { reasons: ['too_many_connections'], action: 'Back off, then retry' },
  SLOW_CONSUMER: { reasons: ['slow_consumer:<id>', 'slow_consumer'], action: 'Reconnect and subscribe with `since` set to <id>, the last event sent' }
}

/** Every close code a client may see, from the wire's table, and 1006, which no close frame carries. */
export function closeCodes (): CloseCodeEntry[] {
  const sent = (Object.entries(CloseCode) as Array<[CloseCodeName, number]>).map(([name, code]) => ({
    code,
    name,
    ...(specs[name] ?? { reasons: [], action: '' })
  }))
  return [...sent, {
    code: ABNORMAL_CLOSURE,
    name: 'ABNORMAL_CLOSURE',
    reasons: [],
    action: 'Never sent: the connection was lost without a close frame (as after a missed heartbeat). Reconnect'
  }]
}
