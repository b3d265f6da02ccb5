/**
 * Audit events: every join, issuance, renewal and lock is written to the state store (under
 * `audit/`, kept {@link AUDIT_RETENTION_MS}) and to the log. Events never hold secret material:
 * no keys, no token names of `token` joins, no signatures.
 */
import type { LogFields } from '../log.ts'
import type { AuthDeps } from './deps.ts'

export const AUDIT_RETENTION_MS = 30 * 24 * 3600_000

export type AuditEventType =
  | 'bot.created'
  | 'bot.deleted'
  | 'bot.join'
  | 'cert.issued'
  | 'host_cert.issued'
  | 'svid.issued'
  | 'cert.renewed'
  | 'cert.generation_mismatch'
  | 'lock.created'
  | 'lock.updated'
  | 'lock.deleted'

export interface AuditEvent {
  readonly type: AuditEventType
  /** Who acted (`bot-example`, `admin`). */
  readonly user: string
  readonly success: boolean
  readonly fields: LogFields
}

export async function recordAudit(
  deps: Pick<AuthDeps, 'store' | 'clock' | 'random' | 'log'>,
  event: AuditEvent,
): Promise<void> {
  const now = deps.clock.now()
  const id = `${now.toISOString()}-${deps.random.uuid()}`
  const record = {
    ...event.fields,
    type: event.type,
    user: event.user,
    success: event.success,
    time: now.toISOString(),
  }
  deps.log[event.success ? 'info' : 'warn'](`audit ${event.type}`, { user: event.user, ...event.fields })
  await deps.store.create(`audit/${id}`, JSON.stringify(record), {
    expires: new Date(now.getTime() + AUDIT_RETENTION_MS),
  })
}
