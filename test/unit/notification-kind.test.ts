import t from 'tap'
import { notificationKind } from '../../src/notification-kind.js'

t.test('a level alone names its type; a type alone names its level and is kept as given', async (t) => {
  t.same(notificationKind('info', undefined), { level: 'info', type: 'info' })
  t.same(notificationKind('warning', undefined), { level: 'warning', type: 'warning' })
  t.same(notificationKind('critical', undefined), { level: 'critical', type: 'error' })
  t.same(notificationKind(undefined, 'info'), { level: 'info', type: 'info' })
  t.same(notificationKind(undefined, 'success'), { level: 'info', type: 'success' })
  t.same(notificationKind(undefined, 'warning'), { level: 'warning', type: 'warning' })
  t.same(notificationKind(undefined, 'error'), { level: 'critical', type: 'error' })
})

t.test('both given must agree', async (t) => {
  t.same(notificationKind('critical', 'error'), { level: 'critical', type: 'error' })
  t.same(notificationKind('info', 'success'), { level: 'info', type: 'success' })
  t.equal(notificationKind('info', 'error'), 'level "info" contradicts type "error", which is level "critical"')
  t.match(notificationKind('warning', 'success'), /contradicts/)
  t.match(notificationKind('critical', 'warning'), /contradicts/)
})

t.test('neither is refused', async (t) => {
  t.equal(notificationKind(undefined, undefined), 'level or type is required')
})
