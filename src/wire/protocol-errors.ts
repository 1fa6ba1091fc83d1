/**
 * Codes carried by `error` frames on a WebSocket. None of them closes the connection. The SDK
 * hands them to the application as the `code` of an EventgateError.
 */
export const ProtocolError = {
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  INVALID_PATTERN: 'INVALID_PATTERN',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  RATE_LIMITED: 'RATE_LIMITED',
  HISTORY_UNAVAILABLE: 'HISTORY_UNAVAILABLE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  REPLAYED: 'REPLAYED',
  ROOM_FULL: 'ROOM_FULL',
  TOO_MANY_ROOMS: 'TOO_MANY_ROOMS',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR'
} as const
export type ProtocolErrorCode = (typeof ProtocolError)[keyof typeof ProtocolError]
