import t from 'tap'
import { closePolicy } from '../../../src/client/close-policy.js'

t.test('close policy follows the close table of docs/client.md', async (t) => {
  const table: Array<[number, string, boolean]> = [
    [4001, 'at-once', true], [4003, 'never', true], [4008, 'backoff', false], [4009, 'backoff', true],
    [1013, 'backoff', false], [1008, 'backoff', true], [1001, 'at-once', false], [1012, 'at-once', false],
    [1009, 'never', true], [1007, 'never', true], [1006, 'backoff', false]
  ]
  for (const [code, retry, report] of table) t.same(closePolicy(code), { retry, report }, String(code))
  t.same(closePolicy(1000), { retry: 'backoff', report: false }, 'a code the table does not name backs off')
  t.same(closePolicy(4999), { retry: 'backoff', report: false })
})
