/**
 * The streams a WebSocket opens, each at `/ws/<stream>`: `events`, a user's own events and the
 * broadcasts; `admin`, role `admin` only, every event, the gateway's security events and the
 * `admin.*` namespace included.
 */
export type Stream = 'events' | 'admin'
