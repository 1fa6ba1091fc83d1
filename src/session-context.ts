import type { Config } from './config.js'
import { ReplayGate } from './replay-gate.js'
import type { SocketSessionContext } from './socket-session.js'
import type { TokenContext } from './token-lifecycle.js'

/** What sessions take from this instance besides its configuration. */
export interface SessionServices extends Pick<SocketSessionContext, 'hub' | 'history' | 'reads' | 'rooms' | 'publisher' | 'security' | 'signing' | 'onFrameRefused' | 'onResumed' | 'onClose'> {
  tokens: Omit<TokenContext, 'expiryWarningMs'>
}

/**
 * The one context every session of the instance shares: the configured limits under the names
 * the session, request and resume modules read, and the gate that bounds concurrent resumes.
 */
export function sessionContext (config: Config, services: SessionServices): SocketSessionContext {
  return {
    ...services,
    serverId: config.serverId,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxSubscriptions: config.maxSubscriptions,
    maxPatternLength: config.maxPatternLength,
    maxReplay: config.retention.maxEvents,
    maxReplayBytes: config.resume.maxBytes,
    maxDataBytes: config.maxDataBytes,
    messageLimits: config.messages,
    replays: new ReplayGate({ perInstance: config.resume.concurrency, perUser: config.resume.concurrencyPerUser }),
    tokens: { ...services.tokens, expiryWarningMs: config.tokenExpiryWarningMs, seal: services.signing?.seal }
  }
}
