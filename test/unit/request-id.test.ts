import t from 'tap'
import { MAX_REQUEST_ID_LENGTH, requestId } from '../../src/request-id.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('a sane id is taken as sent', async (t) => {
  for (const id of ['abc', 'req-1', '0af7651916cd43dd8448eb211c80319c', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x'.repeat(MAX_REQUEST_ID_LENGTH), '!~"#$%&\'()*+,./:;<=>?@[\\]^_`{|}']) {
    t.equal(requestId(id), id, id)
  }
})

t.test('a missing, empty, too long or unprintable id is replaced by a fresh UUID', async (t) => {
  const refused: Array<string | string[] | undefined> = [
    undefined,
    '',
    'x'.repeat(MAX_REQUEST_ID_LENGTH + 1),
    'two words',
    'line\nbreak',
    'tab\there',
    'nul\u0000',
    'del\u007f',
    'caf\u00e9',
    '\u202eevil',
    ['a', 'b']
  ]
  for (const header of refused) t.match(requestId(header), UUID, JSON.stringify(header))
  t.not(requestId(undefined), requestId(undefined), 'a new one each time')
})
