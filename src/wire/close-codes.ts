/**
 * Close codes the gateway closes WebSocket clients with (RFC 6455 range 4000-4999 is the
 * application's). The SDK's close policy (src/client/close-policy.ts) reads this table by name.
 */
export const CloseCode = {
  /** Server is going away (shutdown): reconnect at once, another instance will take you. */
  GOING_AWAY: 1001,
  /** Policy violation: sustained message-rate abuse, or failed `reauthenticate` tokens from a blocked address. Do not retry at once. */
  POLICY_VIOLATION: 1008,
  /** A text frame that is not valid UTF-8 (sent by the WebSocket layer). */
  INVALID_PAYLOAD: 1007,
  /** A client frame larger than WEBSOCKET_MAX_PAYLOAD (sent by the WebSocket layer). */
  MESSAGE_TOO_BIG: 1009,
  /** Server restart: reconnect at once. */
  SERVICE_RESTART: 1012,
  /** This instance is full: back off, then retry (the load balancer picks another). */
  TRY_AGAIN_LATER: 1013,
  /** Missing, invalid or expired token: get a new token, then reconnect. */
  UNAUTHORIZED: 4001,
  /** Authenticated but not allowed here: do not retry. */
  FORBIDDEN: 4003,
  /** Too many connections for this user: back off, then retry. */
  TOO_MANY_CONNECTIONS: 4008,
  /**
   * The client read too slowly: its outbound buffer passed WEBSOCKET_MAX_BUFFERED_BYTES. The
   * reason is `slow_consumer:<id of the last event sent>`: reconnect and resume from that id.
   */
  SLOW_CONSUMER: 4009
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Never sent (RFC 6455 §7.4.1 forbids it in a close frame): what a WebSocket reports for a
 * connection lost without one, as when the gateway terminates a socket that missed its
 * heartbeat, or a client gives up on a silent gateway.
 */
export const ABNORMAL_CLOSURE = 1006
