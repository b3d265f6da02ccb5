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
  | 'role.created'
  | 'role.updated'
  | 'role.deleted'
  | 'admin.login'
  | 'ca.rotation'

/**
 * Audit events also published to the event sink (`deps.events`): changes after which a bot may
 * want to reissue its outputs now rather than at its next scheduled run (docs/SERVERLESS.md,
 * "Events that trigger a reissue").
 */
export const PUBLISHED_AUDIT_TYPES = [
  'lock.deleted',
  'role.created',
  'role.updated',
  'role.deleted',
  'ca.rotation',
] as const satisfies readonly AuditEventType[]

export function isPublishedAuditType(type: string): type is (typeof PUBLISHED_AUDIT_TYPES)[number] {
  return (PUBLISHED_AUDIT_TYPES as readonly string[]).includes(type)
}

export interface AuditEvent {
  readonly type: AuditEventType
  /** Who acted (`bot-example`, `admin`). */
  readonly user: string
  readonly success: boolean
  readonly fields: LogFields
}

/**
 * Stores and logs `event`; one of {@link PUBLISHED_AUDIT_TYPES} is then published to
 * `deps.events` when there is a sink. A failed publish is a warning in the log, never an error of
 * the request: the change happened, and bots still pick it up at their next run.
 */
export async function recordAudit(
  deps: Pick<AuthDeps, 'store' | 'clock' | 'random' | 'log'> & Partial<Pick<AuthDeps, 'events'>>,
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
  if (deps.events !== undefined && event.success && isPublishedAuditType(event.type)) {
    const { type, ...detail } = record
    await deps.events.publish({ type, detail }).catch((err: unknown) =>
      deps.log.warn(`could not publish audit ${event.type}`, {
        error: err instanceof Error ? err.message : String(err),
      }),
    )
  }
}

/** The audit event of a role's creation, change or removal, whichever route made it. */
export async function auditRoleChange(
  deps: Parameters<typeof recordAudit>[0],
  actor: string,
  type: 'role.created' | 'role.updated' | 'role.deleted',
  role: string,
): Promise<void> {
  await recordAudit(deps, { type, user: actor, success: true, fields: { role } })
}
