import { isEventId } from '../wire/event-id.js'
import type { RequestType } from '../wire/frames.js'
import type { ErrorCode } from './errors.js'
import type { ConnectedInfo, GatewayEvent } from './types.js'

/** A frame from the gateway: `{type, id?, payload}`, JSON text, with `timestamp`, `nonce` and `signature` when signed. */
export interface ServerFrame {
  type: string
  id: string | undefined
  payload: Record<string, unknown>
  seal: { timestamp: unknown, nonce: unknown, signature: unknown }
}

/** The frame in a message event's data, or undefined for anything else (binary, not JSON). */
export function parseServerFrame (data: unknown): ServerFrame | undefined {
  if (typeof data !== 'string') return undefined
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  if (!isRecord(value) || typeof value.type !== 'string') return undefined
  const payload = isRecord(value.payload) ? value.payload : {}
  const { timestamp, nonce, signature } = value
  return { type: value.type, id: typeof value.id === 'string' ? value.id : undefined, payload, seal: { timestamp, nonce, signature } }
}

/** A request frame; the client's ids are strings, so a reply can be told from a push. */
export function encodeRequest (type: RequestType, id: string, payload?: Record<string, unknown>): string {
  return JSON.stringify(payload === undefined ? { type, id } : { type, id, payload })
}

export function readEvent (payload: Record<string, unknown>): GatewayEvent | undefined {
  const { id, type, timestamp, data, userId, sessionId, sender, groups } = payload
  if (!isEventId(id) || typeof type !== 'string' || typeof timestamp !== 'string' || !isRecord(data)) return undefined
  if (![userId, sessionId, sender].every((field) => field === undefined || typeof field === 'string')) return undefined
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((group) => typeof group === 'string'))) return undefined
  return payload as unknown as GatewayEvent
}

export function readFault (payload: Record<string, unknown>): { code: ErrorCode, message: string } {
  const code = typeof payload.code === 'string' ? payload.code as ErrorCode : 'INVALID_FRAME'
  return { code, message: typeof payload.message === 'string' ? payload.message : code }
}

/** An ISO time from the gateway as epoch ms; `null` stands for no deadline, like the gateway's. */
export function readTime (value: unknown): number | null | undefined {
  if (value === null) return null
  if (typeof value !== 'string') return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/** A `connected` frame's payload as the application sees it: fields of the wrong type read as empty. */
export function readConnected (payload: Record<string, unknown>): ConnectedInfo {
  const text = (value: unknown): string => typeof value === 'string' ? value : ''
  return {
    serverId: text(payload.serverId),
    connectionId: text(payload.connectionId),
    userId: text(payload.userId),
    expiresAt: typeof payload.expiresAt === 'string' ? payload.expiresAt : undefined,
    groups: readStrings(payload.groups)
  }
}

export function readStrings (value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
