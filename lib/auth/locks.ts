/**
 * Lock enforcement: the one place that decides whether a caller is locked. Every entry point
 * asks it before doing anything else:
 *
 * | entry point                                   | subject                                                     |
 * |-----------------------------------------------|-------------------------------------------------------------|
 * | token join                                    | bot user, bot role, the join token                          |
 * | iam join                                      | bot user, bot role, the join token, and the bot instance of  |
 * |                                               | the previous identity when it signs the join (PoP)           |
 * | renewal, `/v1/certs` (plain and routed),      | the caller ({@link subjectOf}: user, roles, bot instance);   |
 * | `/v1/certs/host`, `/v1/svid/*`                | issuance also checks the roles it would impersonate          |
 * | heartbeat, every admin route                  | the caller                                                  |
 *
 * A `join_token` lock refuses joins with that token only: identities already issued keep
 * working until they expire (lock the bot instance or the bot user to stop them at once).
 *
 * **Expiry.** A lock lasts until it is deleted or its `metadata.expires` passes. The store hides
 * an item from its expiry instant on (every adapter compares with its injected clock), so an
 * expired lock is gone for every reader at once: enforcement, `locks ls`, `GET`. {@link findLock}
 * also compares with `deps.clock`, so a lock is never in force past its expiry whatever the store
 * does. There is deliberately no second, lock-specific expiry field. Consequence: an expired lock
 * is no longer listed; its creation is in the audit log.
 *
 * Locks are few; each check lists them (one query), so a new lock is in force on the next request
 * of every instance of a stateless deployment.
 */
import { AccessDeniedError, type ErrorContext } from '../errors.ts'
import { botRole, botUser, type Identity } from '../identity/identity.ts'
import { parseInstant } from '../resources/fields.ts'
import type { Lock, LockTarget } from '../resources/types.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'

/** What a lock check needs: the resources and the clock. */
export type LockDeps = Pick<AuthDeps, 'resources' | 'clock'>

/** The lock targets a request presents; a lock matching any one of them is in force for it. */
export interface LockSubject {
  readonly user?: string
  readonly roles?: readonly string[]
  /** `<bot>/<instance id>` */
  readonly botInstance?: string
  readonly joinToken?: string
}

/**
 * A lock refused the request. Code `ERR_ACCESS_DENIED` (403), like every policy refusal; the
 * message is `lock targeting <target> is in force: <message>`. The IAM join reports the same
 * message with its own code, `ERR_JOIN_LOCKED`.
 */
export class LockedError extends AccessDeniedError {
  /** The lock's id (`metadata.name`). */
  readonly lock: string
  constructor(lock: Lock, ctx: ErrorContext = {}) {
    super(lockedMessage(lock), { ...ctx, details: { ...ctx.details, lock: lock.metadata.name } })
    this.lock = lock.metadata.name
  }
}

/** The lock targets of an authenticated identity: its user, its roles and its bot instance. */
export function subjectOf(identity: Identity): LockSubject {
  return {
    user: identity.user,
    roles: identity.roles,
    ...(identity.botName !== undefined &&
      identity.botInstanceId !== undefined && {
        botInstance: `${identity.botName}/${identity.botInstanceId}`,
      }),
  }
}

/** The lock targets of a join of bot `botName` with token `tokenName`. */
export function joinSubject(botName: string, tokenName: string): LockSubject {
  return { user: botUser(botName), roles: [botRole(botName)], joinToken: tokenName }
}

/** True while `lock` applies at `now`: it has no expiry, or its expiry is still ahead. */
export function lockInForce(lock: Lock, now: Date): boolean {
  const expires = lock.metadata.expires
  return expires === undefined || (parseInstant(expires) ?? 0) > now.getTime()
}

/** The first lock (in id order) in force for the subject, if any. */
export async function findLock(deps: LockDeps, subject: LockSubject): Promise<Lock | undefined> {
  const now = deps.clock.now()
  let cursor: string | undefined
  do {
    const page = await deps.resources.list('lock', cursor === undefined ? {} : { cursor })
    const hit = page.items.find((lock) => lockInForce(lock, now) && targets(lock.spec.target, subject))
    if (hit) return hit
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return undefined
}

/** @throws LockedError (`ERR_ACCESS_DENIED`) naming the lock's target and message. */
export async function assertNotLocked(deps: LockDeps, subject: LockSubject): Promise<void> {
  const lock = await findLock(deps, subject)
  if (lock) throw new LockedError(lock)
}

/** @throws LockedError when a lock targets the caller's user, one of its roles or its bot instance. */
export function assertCallerNotLocked(deps: LockDeps, caller: Caller): Promise<void> {
  return assertNotLocked(deps, subjectOf(caller.identity))
}

/** `lock targeting user "bot-ci" is in force: <message>`: what every refusal says. */
export function lockedMessage(lock: Lock): string {
  return `lock targeting ${describeTarget(lock.spec.target)} is in force: ${lock.spec.message}`
}

function targets(target: LockTarget, subject: LockSubject): boolean {
  return (
    (target.user !== undefined && target.user === subject.user) ||
    (target.role !== undefined && (subject.roles ?? []).includes(target.role)) ||
    (target.bot_instance !== undefined && target.bot_instance === subject.botInstance) ||
    (target.join_token !== undefined && target.join_token === subject.joinToken)
  )
}

/** The target as refusals name it. Join token names are left out: a `token` join's is its secret. */
export function describeTarget(target: LockTarget): string {
  if (target.user !== undefined) return `user "${target.user}"`
  if (target.role !== undefined) return `role "${target.role}"`
  if (target.bot_instance !== undefined) return `bot instance "${target.bot_instance}"`
  return 'join token'
}
