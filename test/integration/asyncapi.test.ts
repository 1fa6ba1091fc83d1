import t, { type Test } from 'tap'
import { ABNORMAL_CLOSURE, CloseCode } from '../../src/wire/close-codes.js'
import { AUTHENTICATE_TYPES, PUSH_TYPES, REPLY_TYPES, REQUEST_TYPES } from '../../src/wire/frames.js'
import { ProtocolError } from '../../src/wire/protocol-errors.js'
import { startGateway } from '../helpers/gateway.js'

interface Ref { $ref: string }
interface Message { name: string, payload: { properties: { type: { const: string }, payload: { properties?: { code?: { enum?: string[] } } } } } }
interface Operation { action: 'send' | 'receive', channel: Ref, messages: Ref[], reply?: { channel: Ref, messages: Ref[] } }
interface Document {
  asyncapi: string
  info: { title: string, version: string }
  channels: Record<string, { address: string, messages: Record<string, Ref> }>
  operations: Record<string, Operation>
  components: { messages: Record<string, Message> }
  'x-close-codes': Array<{ code: number, name: string }>
}

/** The value a local `$ref` (`#/a/b`) points to in `doc`, or undefined. */
function resolve (doc: unknown, ref: string): unknown {
  return ref.replace(/^#\//, '').split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc)
}

async function fetchDocument (t: Test): Promise<Document> {
  const gw = await startGateway(t)
  const response = await fetch(`${gw.url}/asyncapi.json`)
  t.equal(response.status, 200, 'served without a token')
  t.match(response.headers.get('content-type'), /^application\/json/)
  return await response.json() as Document
}

t.test('the OpenAPI document lists GET /asyncapi.json, open without a token', async (t) => {
  const gw = await startGateway(t)
  const openapi = await (await fetch(`${gw.url}/docs/json`)).json() as { paths: Record<string, { get?: { security?: unknown[] } }> }
  t.same(openapi.paths['/asyncapi.json']?.get?.security, [])
})

t.test('GET /asyncapi.json is an AsyncAPI 3.0 document of both streams', async (t) => {
  const doc = await fetchDocument(t)
  t.equal(doc.asyncapi, '3.0.0')
  t.match(doc.info.version, /^\d+\.\d+\.\d+/)
  t.same(Object.values(doc.channels).map((c) => c.address).sort(), ['/ws/admin', '/ws/events'])
})

t.test('every frame type of the wire vocabulary has a message on both channels', async (t) => {
  const doc = await fetchDocument(t)
  const types = new Set([...REQUEST_TYPES, ...AUTHENTICATE_TYPES, ...REPLY_TYPES, ...PUSH_TYPES])
  for (const type of types) {
    t.equal(doc.components.messages[type]?.payload.properties.type.const, type, `${type} is described`)
    for (const [name, channel] of Object.entries(doc.channels)) {
      t.ok(channel.messages[type], `${type} on ${name}`)
    }
  }
})

t.test('every request is received with its replies, every push is sent', async (t) => {
  const doc = await fetchDocument(t)
  const operations = Object.values(doc.operations)
  const received = (type: string): Operation[] => operations.filter((o) => o.action === 'receive' && o.messages.some((m) => m.$ref.endsWith(`/${type}`)))
  for (const type of [...REQUEST_TYPES, ...AUTHENTICATE_TYPES]) {
    const ops = received(type)
    t.equal(ops.length, 2, `${type} is received on both channels`)
    t.ok(ops.every((o) => o.reply?.messages.some((m) => m.$ref.endsWith('/error'))), `${type} may be answered with an error`)
  }
  t.ok(received('subscribe')[0]?.reply?.messages.some((m) => m.$ref.endsWith('/subscribed')), 'subscribe is answered subscribed')
  for (const type of PUSH_TYPES) {
    t.equal(operations.filter((o) => o.action === 'send' && o.messages.some((m) => m.$ref.endsWith(`/${type}`))).length, 2, `${type} is pushed on both channels`)
  }
})

t.test('every reference in the document leads somewhere, operations to their own channel\'s messages', async (t) => {
  const doc = await fetchDocument(t)
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '')
  t.ok(refs.length > 0)
  for (const ref of new Set(refs)) t.ok(resolve(doc, ref), ref)
  for (const [id, operation] of Object.entries(doc.operations)) {
    const channel = operation.channel.$ref
    for (const m of [...operation.messages, ...(operation.reply?.messages ?? [])]) t.ok(m.$ref.startsWith(`${channel}/messages/`), `${id}: ${m.$ref}`)
  }
})

t.test('every close code and every protocol error code is listed', async (t) => {
  const doc = await fetchDocument(t)
  const listed = new Map(doc['x-close-codes'].map((c) => [c.code, c.name]))
  for (const [name, code] of Object.entries(CloseCode)) t.equal(listed.get(code), name, `${name} (${code})`)
  t.ok(listed.has(ABNORMAL_CLOSURE), `${ABNORMAL_CLOSURE}, which no close frame carries`)
  t.same(doc.components.messages.error?.payload.properties.payload.properties?.code?.enum, Object.values(ProtocolError))
})
