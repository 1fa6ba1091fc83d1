import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { type BenchClaims, benchVerifier, publishRefusal } from './auth.js'
import { serve } from './control.js'
import { type BenchEvent, end, namespaceOf, readBody } from './wire.js'

/**
 * Socket.IO 4 as its documentation sets it up for several nodes: the Redis adapter, WebSocket
 * transport only, the JWT checked in a connection middleware. Each socket joins its user's room
 * (and `admin` for admins); `subscribe` joins a topic room. POST /publish emits an event to the
 * rooms that should see it; the adapter carries it to the other instance.
 */
const verify = benchVerifier()
const redisUrl = process.env.REDIS_URL ?? ''
const pub = new Redis(redisUrl)
const sub = pub.duplicate()
let sequence = 0

const http = createServer((request, response) => { void publish(request, response) })
// Fastify's default (72 s), not Node's 5 s: between phases the publisher's kept-alive sockets idle
// longer than 5 s, and a request racing the server's close of one would fail.
http.keepAliveTimeout = 72_000
const io = new Server(http, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub) })

io.use((socket, next) => {
  try {
    const { token } = socket.handshake.auth as { token?: unknown }
    socket.data = verify(typeof token === 'string' ? token : '')
    next()
  } catch {
    next(new Error('unauthorized'))
  }
})

io.on('connection', (socket) => {
  const claims = socket.data as BenchClaims
  void socket.join(`user:${claims.sub}`)
  if (claims.roles?.includes('admin') === true) void socket.join('admin')
  socket.on('subscribe', (topic: unknown, ack: unknown) => {
    if (typeof topic === 'string') void socket.join(`topic:${topic}`)
    if (typeof ack === 'function') ack('subscribed')
  })
})

async function publish (request: IncomingMessage, response: ServerResponse): Promise<void> {
  const refused = publishRefusal(request, verify)
  if (refused !== undefined) return end(response, refused)
  const input = JSON.parse(await readBody(request)) as Omit<BenchEvent, 'id' | 'timestamp'>
  const event: BenchEvent = { id: `${process.pid}-${++sequence}`, ...input, timestamp: new Date().toISOString() }
  const rooms = input.userId === undefined ? [`topic:${namespaceOf(input.type)}`, 'admin'] : [`user:${input.userId}`, 'admin']
  io.to(rooms).emit('event', event)
  end(response, 202)
}

await serve(http)
