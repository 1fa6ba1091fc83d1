import t from 'tap'
import { endpointOf } from '../../../src/client/endpoint.js'

t.test('endpoints: the stream and the ticket route under the base URL', async (t) => {
  t.same(endpointOf('https://events.example.com', 'events'), { socket: 'wss://events.example.com/ws/events', ticket: 'https://events.example.com/ws/ticket' })
  t.same(endpointOf('ws://127.0.0.1:3000/', 'admin'), { socket: 'ws://127.0.0.1:3000/ws/admin', ticket: 'http://127.0.0.1:3000/ws/ticket' })
  t.same(endpointOf('https://example.com/gateway/', 'events'), { socket: 'wss://example.com/gateway/ws/events', ticket: 'https://example.com/gateway/ws/ticket' }, 'a path is a prefix')
  t.throws(() => endpointOf('wss://example.com/ws/events', 'events'), /base URL/, 'a stream URL is refused with a hint')
  t.throws(() => endpointOf('ftp://example.com', 'events'), /http\(s\)/)
})
