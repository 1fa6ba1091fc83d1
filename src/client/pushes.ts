import type { PushType } from '../wire/frames.js'
import { EventgateError } from './errors.js'
import { readFault, readTime, type ServerFrame } from './frames.js'
import type { Link } from './link.js'
import type { RoomKeeper } from './rooms.js'

/** What the frames the gateway sends unasked act on. */
export interface PushTarget {
  connected: (link: Link, payload: Record<string, unknown>) => void
  deliver: (payload: Record<string, unknown>) => void
  report: (err: EventgateError) => void
  readonly roomKeeper: RoomKeeper
}

type PushHandler = (target: PushTarget, link: Link, payload: Record<string, unknown>) => void

/** Frames the gateway sends unasked; replies are matched to their request by `id`. */
const pushHandlers: Record<string, PushHandler> = {
  connected: (target, link, payload) => { target.connected(link, payload) },
  event: (target, _link, payload) => { target.deliver(payload) },
  token_expiring: (_target, link, payload) => { link.refresher.expiring(readTime(payload.expiresAt)) },
  room_joined: (target, _link, payload) => { target.roomKeeper.groupEntered(payload) },
  room_left: (target, _link, payload) => { target.roomKeeper.roomLeft(payload) },
  error: (target, _link, payload) => {
    const fault = readFault(payload)
    target.report(new EventgateError(fault.code, fault.message))
  }
} satisfies Record<PushType, PushHandler>

/** Push types this client does not know (a newer gateway's) are ignored. */
export function handlePush (target: PushTarget, link: Link, frame: ServerFrame): void {
  const handler = Object.hasOwn(pushHandlers, frame.type) ? pushHandlers[frame.type] : undefined
  handler?.(target, link, frame.payload)
}
