/**
 * Lock enforcement: a lock whose target matches the caller denies joins, renewals and issuance.
 * Locks are few; each check lists them (one query) so a new lock is in force on the next request
 * of every instance of a stateless deployment.
 */
import { AccessDeniedError } from '../errors.ts'
import type { Lock, LockTarget } from '../resources/types.ts'
import type { ResourceService } from '../services/resource-service.ts'

export interface LockSubject {
  readonly user?: string
  readonly roles?: readonly string[]
  /** `<bot>/<instance id>` */
  readonly botInstance?: string
  readonly joinToken?: string
}

/** The first lock in force for the subject, if any. */
export async function findLock(resources: ResourceService, subject: LockSubject): Promise<Lock | undefined> {
  let cursor: string | undefined
  do {
    const page = await resources.list('lock', cursor === undefined ? {} : { cursor })
    const hit = page.items.find((lock) => targets(lock.spec.target, subject))
    if (hit) return hit
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return undefined
}

/** @throws AccessDeniedError naming the lock's target and message when a lock is in force. */
export async function assertNotLocked(resources: ResourceService, subject: LockSubject): Promise<void> {
  const lock = await findLock(resources, subject)
  if (lock) {
    throw new AccessDeniedError(
      `lock targeting ${describeTarget(lock.spec.target)} is in force: ${lock.spec.message}`,
      {
        details: { lock: lock.metadata.name },
      },
    )
  }
}

function targets(target: LockTarget, subject: LockSubject): boolean {
  return (
    (target.user !== undefined && target.user === subject.user) ||
    (target.role !== undefined && (subject.roles ?? []).includes(target.role)) ||
    (target.bot_instance !== undefined && target.bot_instance === subject.botInstance) ||
    (target.join_token !== undefined && target.join_token === subject.joinToken)
  )
}

export function describeTarget(target: LockTarget): string {
  if (target.user !== undefined) return `user "${target.user}"`
  if (target.role !== undefined) return `role "${target.role}"`
  if (target.bot_instance !== undefined) return `bot instance "${target.bot_instance}"`
  return 'join token'
}
