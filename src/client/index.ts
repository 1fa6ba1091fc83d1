/**
 * The eventgate client: framework-free, for browsers (native WebSocket) and Node (`ws`).
 * It keeps a subscription alive across token expiry, instance restarts and dead connections,
 * and resumes with `since` so the application sees every event once and in order.
 */
import { Client } from './client.js'
import type { ClientOptions, EventgateClient } from './types.js'

export type { RoomRole } from '../wire/rooms.js'
export type { Stream } from '../wire/streams.js'
export type { BackoffOptions } from './backoff.js'
export { EventgateError, type ClientErrorCode, type ErrorCode, type ProtocolErrorCode } from './errors.js'
export type {
  ClientEvents, ClientOptions, ClientState, CloseInfo, ConnectedInfo, EventgateClient, EventHandler, GatewayEvent, Logger,
  PublishOptions, ReconnectInfo, ResumedInfo, RoomChange, RoomGrant, RoomMembership, Subscription, TruncatedInfo, WebSocketConstructor, WebSocketLike
} from './types.js'

/** Creates a client and starts connecting at once. */
export function createClient (options: ClientOptions): EventgateClient {
  return new Client(options)
}
