import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { Redis } from 'ioredis'
import { WebSocket, WebSocketServer } from 'ws'
import { bearer, type BenchClaims, benchVerifier, publishRefusal } from './auth.js'
import { serve } from './control.js'
import { type BenchEvent, end, inputsOf, namespaceOf, readBody } from './wire.js'

/**
 * The least a broadcaster can be: `ws` and ioredis, the JWT checked at the upgrade, one Redis
 * channel, each event serialized once (the channel's text, turned into one Buffer) and sent to
 * the sockets indexed for it; a batch is published as one pipeline. Sockets send `{"type":"subscribe","topic":…}`; events carrying a
 * `userId` go to that user's sockets, others to the topic's; admins get everything.
 */
const CHANNEL = 'bench:events'
const verify = benchVerifier()
const redisUrl = process.env.REDIS_URL ?? ''
const pub = new Redis(redisUrl)
const sub = pub.duplicate()
let sequence = 0

const byUser = new Map<string, Set<WebSocket>>()
const byTopic = new Map<string, Set<WebSocket>>()
const admins = new Set<WebSocket>()
const SUBSCRIBED = Buffer.from('{"type":"subscribed"}')
const TEXT = { binary: false }

function index<K> (map: Map<K, Set<WebSocket>>, key: K, socket: WebSocket): void {
  let set = map.get(key)
  if (set === undefined) map.set(key, set = new Set())
  set.add(socket)
}

function unindex<K> (map: Map<K, Set<WebSocket>>, key: K, socket: WebSocket): void {
  const set = map.get(key)
  set?.delete(socket)
  if (set?.size === 0) map.delete(key)
}

const http = createServer((request, response) => { void publish(request, response) })
// Fastify's default (72 s), not Node's 5 s: between phases the publisher's kept-alive sockets idle
// longer than 5 s, and a request racing the server's close of one would fail.
http.keepAliveTimeout = 72_000
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })

http.on('upgrade', (request, socket, head) => {
  let claims: BenchClaims
  try {
    claims = verify(bearer(request.headers.authorization) ?? '')
  } catch {
    socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n')
    return
  }
  wss.handleUpgrade(request, socket, head, (ws) => { accept(ws, claims) })
})

function accept (ws: WebSocket, claims: BenchClaims): void {
  const admin = claims.roles?.includes('admin') === true
  const topics = new Set<string>()
  if (admin) admins.add(ws)
  else index(byUser, claims.sub, ws)
  ws.on('message', (data) => {
    const { topic } = JSON.parse(data.toString()) as { topic?: unknown }
    if (typeof topic !== 'string' || topics.has(topic)) return
    topics.add(topic)
    if (!admin) index(byTopic, topic, ws)
    ws.send(SUBSCRIBED, TEXT)
  })
  ws.on('error', () => {})
  ws.on('close', () => {
    admins.delete(ws)
    unindex(byUser, claims.sub, ws)
    for (const topic of topics) unindex(byTopic, topic, ws)
  })
}

function send (sockets: Set<WebSocket> | undefined, frame: Buffer): void {
  if (sockets === undefined) return
  for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send(frame, TEXT)
}

sub.on('message', (_channel: string, text: string) => {
  const { userId, type } = JSON.parse(text) as BenchEvent
  const frame = Buffer.from(text)
  send(userId === undefined ? byTopic.get(namespaceOf(type)) : byUser.get(userId), frame)
  send(admins, frame)
})
await sub.subscribe(CHANNEL)

async function publish (request: IncomingMessage, response: ServerResponse): Promise<void> {
  const refused = publishRefusal(request, verify)
  if (refused !== undefined) return end(response, refused)
  let inputs: ReturnType<typeof inputsOf>
  try {
    inputs = inputsOf(await readBody(request))
  } catch {
    return end(response, 400)
  }
  const timestamp = new Date().toISOString()
  const texts = inputs.map((input) => JSON.stringify({ id: `${process.pid}-${++sequence}`, ...input, timestamp } satisfies BenchEvent))
  try {
    if (texts.length === 1) await pub.publish(CHANNEL, texts[0] as string)
    else {
      // A batch goes out as one pipeline of PUBLISH commands: one write, one round trip.
      const replies = await texts.reduce((pipeline, text) => pipeline.publish(CHANNEL, text), pub.pipeline()).exec()
      if (replies?.some(([err]) => err !== null) !== false) return end(response, 503)
    }
  } catch {
    return end(response, 503)
  }
  end(response, 202)
}

await serve(http)
