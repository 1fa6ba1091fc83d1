import t from 'tap'
import { describeInvalid } from '../../src/validation-words.js'

t.test('a pattern without words is refused without its source', async (t) => {
  const { field, message } = describeInvalid([{ instancePath: '/events/0/code', keyword: 'pattern', message: 'must match pattern "^[A-Z]{3}$"', params: { pattern: '^[A-Z]{3}$' } }])
  t.equal(field, 'events.0.code')
  t.equal(message, 'events.0.code must be in the documented form (see /docs)')
})

t.test('a union of literals lists its values; a missing or unknown property is named', async (t) => {
  const level = [
    { instancePath: '/level', keyword: 'const', params: { allowedValue: 'info' } },
    { instancePath: '/level', keyword: 'const', params: { allowedValue: 'warning' } },
    { instancePath: '/level', keyword: 'anyOf', params: {} }
  ]
  t.same(describeInvalid(level), { field: 'level', message: 'level must be one of info, warning' })
  t.same(describeInvalid([{ instancePath: '', keyword: 'required', params: { missingProperty: 'title' } }]), { field: 'title', message: 'title is required' })
  t.same(describeInvalid([{ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'userID' } }]), { field: 'userID', message: 'userID is not a known property' })
  t.same(describeInvalid([{ instancePath: '', keyword: 'type', params: { type: 'object' } }]), { field: '', message: 'body must be an object' })
})
