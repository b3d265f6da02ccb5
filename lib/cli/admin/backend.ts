/**
 * What the admin commands (bots, tokens, get/create/apply/rm, locks, ca) need from a cluster, so
 * one command works the same on the local state store (`local-backend.ts`, tctl on the auth host)
 * and through a remote auth service's admin API (`../remote/remote-backend.ts`). Both return the
 * same documents and raise the same error codes, so the commands print the same output.
 */
import type { RemoveBotResult } from '../../auth/bots.ts'
import type { CaType } from '../../ca/authorities.ts'
import type { RotationStatus } from '../../ca/rotation.ts'
import type { RotationPhase } from '../../ca/rotation-phases.ts'
import type { Bot, Lock, LockTarget, Resource, ResourceKind, ResourceOf } from '../../resources/types.ts'

export interface AddedBot {
  readonly bot: Bot
  /** The one-time join token (a secret: printed once, never logged). */
  readonly token: string
  readonly tokenExpires: string
}

export interface AddedToken {
  readonly token: string
  readonly tokenExpires: string
}

export interface AdminBackend {
  /** `local state (…)` or the auth service's URL, for messages. */
  readonly where: string
  /** Every live resource of `kind`, in name order. */
  list<K extends ResourceKind>(kind: K): Promise<ResourceOf<K>[]>
  /** @throws NotFoundError (`role "x" not found`). */
  get<K extends ResourceKind>(kind: K, name: string): Promise<ResourceOf<K>>
  /** @throws InvalidResourceError (nothing written), AlreadyExistsError. */
  create(doc: Resource): Promise<Resource>
  /** Replaces `doc` if it is still at `doc.metadata.revision`. @throws RevisionMismatchError. */
  update(doc: Resource): Promise<Resource>
  /** Deletes one resource; a lock's removal is audited. @throws NotFoundError. */
  remove(kind: ResourceKind, name: string): Promise<void>
  /** A bot and its first join token. */
  addBot(req: { name: string; roles: readonly string[]; tokenTtlMs?: number }): Promise<AddedBot>
  /** A new single-use join token for an existing bot. @throws NotFoundError for an unknown bot. */
  addJoinToken(bot: string, ttlMs?: number): Promise<AddedToken>
  /** The bot, its tokens and instances; its locks stay (see lib/auth/bots.ts). */
  removeBot(name: string): Promise<RemoveBotResult>
  /** A lock with a generated id. `expires` is already validated and in the future. */
  addLock(req: { target: LockTarget; message?: string; expires?: Date }): Promise<Lock>
  /** @returns the removed lock. @throws NotFoundError. */
  removeLock(id: string): Promise<Lock>
  /** Where every CA is in its rotation. */
  caStatus(): Promise<RotationStatus[]>
  /** One rotation step (no `phase`: the next one). @throws RotationPhaseError, NotFoundError. */
  rotateCa(req: CaRotateRequest): Promise<RotationStatus>
  close(): Promise<void>
}

export interface CaRotateRequest {
  readonly type: CaType
  readonly phase?: RotationPhase
  readonly manual?: boolean
  readonly gracePeriodMs?: number
  /** End a rotation before its signer has signed for a grace period. */
  readonly force?: boolean
}
