/**
 * A notification's severity has two names: `level` (`info`, `warning`, `critical`), the
 * gateway's own, and `type` (`info`, `warning`, `error`, `success`), the design documents'.
 * Readers of either must find a value, so an event carries both: the one given, and the other
 * derived from it. `type` is the finer of the two (`success` has no level of its own), so a
 * given `type` is kept as it is, and a given `level` names the `type` it corresponds to.
 */
export const NOTIFICATION_LEVELS = ['info', 'warning', 'critical'] as const
export const NOTIFICATION_TYPES = ['info', 'warning', 'error', 'success'] as const

export type NotificationLevel = typeof NOTIFICATION_LEVELS[number]
export type NotificationType = typeof NOTIFICATION_TYPES[number]

/** The level a type is delivered with: a success is news, not a warning. */
const LEVEL_OF_TYPE: Readonly<Record<NotificationType, NotificationLevel>> = {
  info: 'info',
  success: 'info',
  warning: 'warning',
  error: 'critical'
}

const TYPE_OF_LEVEL: Readonly<Record<NotificationLevel, NotificationType>> = {
  info: 'info',
  warning: 'warning',
  critical: 'error'
}

export interface NotificationKind {
  level: NotificationLevel
  type: NotificationType
}

/**
 * Both names of a notification's severity, from the one or two the body gave; a string saying
 * what is wrong when it gave neither, or two that disagree (`level: info` with `type: error`
 * is a mistake somewhere, and delivering either would hide it). `type: success` agrees with
 * `level: info`, the level it is delivered with.
 */
export function notificationKind (level: NotificationLevel | undefined, type: NotificationType | undefined): NotificationKind | string {
  if (type !== undefined) {
    if (level !== undefined && level !== LEVEL_OF_TYPE[type]) return `level "${level}" contradicts type "${type}", which is level "${LEVEL_OF_TYPE[type]}"`
    return { level: LEVEL_OF_TYPE[type], type }
  }
  if (level !== undefined) return { level, type: TYPE_OF_LEVEL[level] }
  return 'level or type is required'
}
