/**
 * Resource writes made on an admin's behalf, with their audit events: the admin HTTP API
 * (lib/http/admin-routes.ts) and the CLI on the local state (lib/cli/admin/local-backend.ts) both
 * write through these, so the same change leaves the same record whichever way it was made.
 *
 * - A lock's creation, change or removal: `lock.created`, `lock.updated`, `lock.deleted`.
 * - A role's: `role.created`, `role.updated`, `role.deleted` (a role change may widen or narrow
 *   what bots' outputs carry).
 * - Other kinds: written without an event here (bots and tokens have their own, lib/auth/bots.ts).
 *
 * Events of `PUBLISHED_AUDIT_TYPES` (lib/auth/audit.ts) also go to `deps.events` when the caller has a sink
 * (the auth service does); without one they are only stored and logged.
 */
import { nameOf } from '../resources/keys.ts'
import type { Resource, ResourceKind } from '../resources/types.ts'
import { auditRoleChange } from './audit.ts'
import type { AuthDeps } from './deps.ts'
import { auditLockChange, type LockAdminDeps } from './lock-admin.ts'

export type AuditedWriteDeps = LockAdminDeps & Partial<Pick<AuthDeps, 'events'>>

/**
 * Validates and creates `doc`, then records its event.
 * @throws InvalidResourceError, AlreadyExistsError (nothing written, nothing recorded).
 */
export async function createAudited(deps: AuditedWriteDeps, actor: string, doc: unknown): Promise<Resource> {
  const created = await deps.resources.create(doc)
  if (created.kind === 'lock') await auditLockChange(deps, actor, 'lock.created', created)
  if (created.kind === 'role') await auditRoleChange(deps, actor, 'role.created', nameOf(created))
  return created
}

/**
 * Replaces `resource` if it is still at its `metadata.revision`, then records its event.
 * @throws RevisionMismatchError, NotFoundError, InvalidResourceError (nothing recorded).
 */
export async function updateAudited(
  deps: AuditedWriteDeps,
  actor: string,
  resource: Resource,
): Promise<Resource> {
  const updated = await deps.resources.update(resource)
  // A lock changed in place (retargeted, reworded) is an audit event, like its creation.
  if (updated.kind === 'lock') await auditLockChange(deps, actor, 'lock.updated', updated)
  if (updated.kind === 'role') await auditRoleChange(deps, actor, 'role.updated', nameOf(updated))
  return updated
}

/**
 * Deletes one resource (at `options.revision` when given), then records its event. A lock is read
 * first, so its event names the target it had.
 * @throws NotFoundError, RevisionMismatchError (nothing recorded).
 */
export async function deleteAudited(
  deps: AuditedWriteDeps,
  actor: string,
  kind: ResourceKind,
  name: string,
  options: { revision?: string } = {},
): Promise<void> {
  const lock = kind === 'lock' ? await deps.resources.get('lock', name) : undefined
  await deps.resources.delete(kind, name, options)
  if (lock) await auditLockChange(deps, actor, 'lock.deleted', lock)
  if (kind === 'role') await auditRoleChange(deps, actor, 'role.deleted', name)
}
