import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter'
import { Cluster, Redis } from 'ioredis'
import { Server } from 'socket.io'
import { type BenchClaims, benchVerifier, publishRefusal } from './auth.js'
import { serve } from './control.js'
import { type BenchEvent, end, inputsOf, namespaceOf, readBody } from './wire.js'

/**
 * Socket.IO 4 as its documentation sets it up for several nodes: the Redis adapter, WebSocket
 * transport only, the JWT checked in a connection middleware. Each socket joins its user's room
 * (and `admin` for admins); `subscribe` joins a topic room. POST /publish emits an event to the
 * rooms that should see it; the adapter carries it to the other instance.
 *
 * On a Redis Cluster (REDIS_CLUSTER_NODES) it takes the sharded adapter, on ioredis clients (the
 * adapter speaks both ioredis and node-redis): in its default "dynamic" mode each room has a
 * shard channel of its own, subscribed by the instances that hold a member, so an emit to one
 * room reaches only them, from the master that owns the room's slot. An emit to two rooms goes
 * on the namespace's one channel to every instance instead, so there the event is emitted to
 * each room apart, the admins' excepted from the other, which keeps one delivery per socket.
 */
const verify = benchVerifier()
const seeds = process.env.REDIS_CLUSTER_NODES
let sequence = 0

function adapter (): ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter> {
  if (seeds === undefined) {
    const pub = new Redis(process.env.REDIS_URL ?? '')
    return createAdapter(pub, pub.duplicate())
  }
  const nodes = seeds.split(',').map((seed) => {
    const [host, port] = seed.split(':')
    return { host: host as string, port: Number(port) }
  })
  return createShardedAdapter(new Cluster(nodes), new Cluster(nodes, { shardedSubscribers: true }))
}

const http = createServer((request, response) => { void publish(request, response) })
// Fastify's default (72 s), not Node's 5 s: between phases the publisher's kept-alive sockets idle
// longer than 5 s, and a request racing the server's close of one would fail.
http.keepAliveTimeout = 72_000
const io = new Server(http, { transports: ['websocket'], serveClient: false, adapter: adapter() })

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
  const timestamp = new Date().toISOString()
  for (const input of inputsOf(await readBody(request))) {
    const event: BenchEvent = { id: `${process.pid}-${++sequence}`, ...input, timestamp }
    const room = input.userId === undefined ? `topic:${namespaceOf(input.type)}` : `user:${input.userId}`
    if (seeds === undefined) io.to([room, 'admin']).emit('event', event)
    else {
      io.to(room).except('admin').emit('event', event)
      io.to('admin').emit('event', event)
    }
  }
  end(response, 202)
}

await serve(http)
