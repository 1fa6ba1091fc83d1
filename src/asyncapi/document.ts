import { PUSH_TYPES, REPLY_TYPES } from '../wire/frames.js'
import { closeCodes } from './close-codes.js'
import { CLIENT_FRAME_TYPES, type ClientFrameType, type FrameType, message, type Schema, SERVER_FRAME_TYPES } from './messages.js'

/** The two streams: AsyncAPI channels, each one WebSocket. */
const CHANNELS = {
  events: {
    address: '/ws/events',
    title: 'A user\'s stream',
    description: 'The user\'s own events and the broadcasts, except the admin-only namespace `admin.*`.'
  },
  admin: {
    address: '/ws/admin',
    title: 'The admin stream',
    description: 'Role `admin` only: every event of every user and every namespace.'
  }
} as const
type ChannelName = keyof typeof CHANNELS

/** The frames a request is answered with, besides `error`; a request not listed may get any reply. */
const REPLIES: Partial<Record<ClientFrameType, FrameType[]>> = {
  subscribe: ['subscribed'],
  unsubscribe: ['unsubscribed'],
  get_subscriptions: ['subscriptions'],
  ping: ['pong'],
  heartbeat: ['heartbeat_response'],
  reauthenticate: ['reauthenticated'],
  're-authenticate': ['reauthenticated'],
  join: ['room_joined'],
  leave: ['room_left'],
  publish: ['published'],
  get_rooms: ['rooms'],
  // The socket's answer to a valid token is the `connected` push, which carries no id.
  authenticate: ['connected'],
  auth: ['connected']
}

/** Frames that answer a client's, or may: they carry its `id`. */
const ANSWERS = new Set<FrameType>([...CLIENT_FRAME_TYPES, ...REPLY_TYPES])

/** Where an upgrade may carry its credential, besides the Authorization header and cookies. */
const UPGRADE_QUERY: Schema = {
  type: 'object',
  properties: {
    ticket: { type: 'string', description: 'A single-use ticket from POST /ws/ticket: the way for browsers' },
    token: { type: 'string', description: 'The JWT in the URL: the least safe choice' }
  }
}

/** The credentials of an upgrade, the first found winning in this order (docs/protocol.md, Authentication). */
const SECURITY_SCHEMES: Record<string, Schema> = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  accessTokenCookie: { type: 'httpApiKey', in: 'cookie', name: 'access_token', description: 'Wins over `accessToken` when both are sent' },
  accessTokenCamelCookie: { type: 'httpApiKey', in: 'cookie', name: 'accessToken' },
  ticket: { type: 'httpApiKey', in: 'query', name: 'ticket', description: 'Single use, from POST /ws/ticket' },
  queryToken: { type: 'httpApiKey', in: 'query', name: 'token', description: 'The least safe choice: URLs end up in logs' }
}

/**
 * The WebSocket protocol as an AsyncAPI 3.0 document, built from the wire vocabulary (frame
 * types, protocol error codes, close codes) so that it describes every frame the gateway knows.
 * The application it describes is the gateway: it receives requests and sends replies and pushes.
 */
export function asyncApiDocument (version: string): Schema {
  const frames: FrameType[] = [...CLIENT_FRAME_TYPES, ...SERVER_FRAME_TYPES]
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'eventgate WebSocket protocol',
      version,
      description: 'JSON text frames `{"type", "id"?, "payload"?}`: a client sends requests, the gateway answers each with a reply that echoes its `id` and pushes frames unasked. Close codes are listed in `x-close-codes`. The prose is docs/protocol.md.',
      license: { name: 'MIT' }
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: {
        host: '{host}',
        protocol: 'wss',
        description: 'TLS by the gateway (TLS_CERT, TLS_KEY) or by a proxy in front; `ws` on a plain development gateway. A socket opened without a credential has WEBSOCKET_AUTH_TIMEOUT to send `authenticate`.',
        variables: { host: { default: '127.0.0.1:3000' } },
        security: Object.keys(SECURITY_SCHEMES).map((name) => ({ $ref: `#/components/securitySchemes/${name}` }))
      }
    },
    channels: Object.fromEntries(Object.entries(CHANNELS).map(([name, channel]) => [name, {
      ...channel,
      messages: Object.fromEntries(frames.map((type) => [type, { $ref: `#/components/messages/${type}` }])),
      bindings: { ws: { method: 'GET', query: UPGRADE_QUERY, bindingVersion: '0.1.0' } }
    }])),
    operations: Object.fromEntries((Object.keys(CHANNELS) as ChannelName[]).flatMap((channel) => [
      ...CLIENT_FRAME_TYPES.map((type) => [`${channel}.request.${type}`, request(channel, type)]),
      ...PUSH_TYPES.map((type) => [`${channel}.push.${type}`, push(channel, type)])
    ])),
    components: {
      messages: Object.fromEntries(frames.map((type) => [type, message(type, ANSWERS.has(type))])),
      securitySchemes: SECURITY_SCHEMES
    },
    'x-close-codes': closeCodes()
  }
}

function request (channel: ChannelName, type: ClientFrameType): Schema {
  const answers: FrameType[] = [...(REPLIES[type] ?? REPLY_TYPES.filter((t) => t !== 'error')), 'error']
  return {
    action: 'receive',
    channel: { $ref: `#/channels/${channel}` },
    messages: [ref(channel, type)],
    reply: { channel: { $ref: `#/channels/${channel}` }, messages: answers.map((answer) => ref(channel, answer)) }
  }
}

function push (channel: ChannelName, type: FrameType): Schema {
  return { action: 'send', channel: { $ref: `#/channels/${channel}` }, messages: [ref(channel, type)] }
}

function ref (channel: ChannelName, type: string): Schema {
  return { $ref: `#/channels/${channel}/messages/${type}` }
}
