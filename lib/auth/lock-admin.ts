/**
 * Lock administration (`locks add`, `locks ls`, `locks rm`; `POST /v1/locks`): the `tctl lock`
 * of credbroker. Enforcement is lib/auth/locks.ts.
 *
 * - A lock's id is its `metadata.name`: a random UUID chosen here, never by the caller.
 * - `expires` becomes `metadata.expires`: from that instant the lock is gone (see locks.ts).
 * - `created_by` is the acting user (`admin`, `cli`), `created_at` the injected clock's now.
 * - Creation and removal are audit events (`lock.created`, `lock.deleted`). Events name a
 *   `join_token` target without the token's name: a `token` join's name is its secret.
 *
 * @example
 * const lock = await addLock(deps, 'admin', { target: { user: 'bot-ci' }, message: 'incident 7' })
 * await removeLock(deps, 'admin', lock.metadata.name)
 */
import { parseDuration } from '../duration.ts'
import { BadRequestError } from '../errors.ts'
import { parseInstant } from '../resources/fields.ts'
import { LOCK_TARGETS } from '../resources/lock.ts'
import type { Lock, LockTarget } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { AuthDeps } from './deps.ts'
import { describeTarget } from './locks.ts'

/** What lock administration needs: no CA, no HTTP. */
export type LockAdminDeps = Pick<AuthDeps, 'store' | 'resources' | 'clock' | 'random' | 'log'>

export interface AddLockRequest {
  /** Exactly one field set; validated with the lock schema (errors name `spec.target.<field>`). */
  readonly target: LockTarget
  readonly message?: string
  /** When the lock stops applying; absent: until it is removed. */
  readonly expires?: Date
}

/**
 * Creates a lock with a fresh id; it is in force from the next request on.
 * @returns the stored lock (its id is `metadata.name`).
 * @throws InvalidResourceError naming the field (`spec.target`, `spec.target.bot_instance`,
 *   `spec.message`, `metadata.expires` when already past); nothing is written.
 */
export async function addLock(deps: LockAdminDeps, actor: string, req: AddLockRequest): Promise<Lock> {
  const now = deps.clock.now()
  const lock = await deps.resources.create({
    kind: 'lock',
    version: 'v1',
    metadata: {
      name: deps.random.uuid(),
      labels: {},
      ...(req.expires !== undefined && { expires: req.expires.toISOString() }),
    },
    spec: {
      target: req.target,
      message: req.message ?? '',
      created_by: actor,
      created_at: now.toISOString(),
    },
  } satisfies Lock)
  await auditLockChange(deps, actor, 'lock.created', lock)
  return lock
}

/** The audit event of a lock's creation, change or removal, whichever route made it. */
export async function auditLockChange(
  deps: LockAdminDeps,
  actor: string,
  type: 'lock.created' | 'lock.updated' | 'lock.deleted',
  lock: Lock,
): Promise<void> {
  await recordAudit(deps, {
    type,
    user: actor,
    success: true,
    fields: {
      lock: lock.metadata.name,
      target: describeTarget(lock.spec.target),
      message: lock.spec.message,
      expires: lock.metadata.expires ?? null,
    },
  })
}

/** Every lock in force, oldest first (by `created_at`, then id; locks without one first). */
export async function listLocks(deps: Pick<AuthDeps, 'resources'>): Promise<Lock[]> {
  const all: Lock[] = []
  let cursor: string | undefined
  do {
    const page = await deps.resources.list('lock', cursor === undefined ? {} : { cursor })
    all.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  const key = (l: Lock) => `${l.spec.created_at ?? ''}\u0000${l.metadata.name}`
  return all.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

/**
 * Removes a lock: whatever it refused is served again from the next request on.
 * @returns the removed lock.
 * @throws NotFoundError (`lock "<id>" not found`, also for an expired one); BadRequestError for an
 *   id no lock can have.
 */
export async function removeLock(deps: LockAdminDeps, actor: string, id: string): Promise<Lock> {
  const lock = await deps.resources.get('lock', id)
  await deps.resources.delete('lock', id)
  await auditLockChange(deps, actor, 'lock.deleted', lock)
  return lock
}

/**
 * A lock expiry as users write it: a duration from `now` (`30m`, `12h`) or an RFC 3339 instant.
 * @throws BadRequestError naming `field` when it is neither, or not in the future.
 */
export function parseLockExpiry(text: string, now: Date, field: string): Date {
  const instant = parseInstant(text)
  if (instant !== undefined) {
    if (instant <= now.getTime()) throw new BadRequestError(`${field}: ${text} is in the past`)
    return new Date(instant)
  }
  let ms: number
  try {
    ms = parseDuration(text)
  } catch {
    throw new BadRequestError(
      `${field}: "${text}" is neither a duration such as 30m or 12h nor an RFC 3339 instant such as 2026-01-01T00:00:00Z`,
    )
  }
  if (ms <= 0) throw new BadRequestError(`${field}: the duration must be positive`)
  return new Date(now.getTime() + ms)
}

/** `user=bot-ci`, `bot_instance=ci/<uuid>`: a target on one line, for tables. */
export function formatTarget(target: LockTarget): string {
  for (const field of LOCK_TARGETS) {
    const value = target[field]
    if (value !== undefined) return `${field}=${value}`
  }
  return '-'
}
