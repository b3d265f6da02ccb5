/**
 * What a generation mismatch does: locks the bot instance (every join, renewal and issuance of
 * that instance is refused until an operator removes the lock), records a
 * `cert.generation_mismatch` audit event, and returns the denial for the caller, which names the
 * stored and the presented generation as the troubleshooting guide shows them.
 *
 * Locks have no expiry. Recovery is the guide's: remove the lock, then `bots instances add` to
 * join as a new bot instance (the old one stays locked).
 */
import { AccessDeniedError } from '../errors.ts'
import type { Lock } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { AuthDeps } from './deps.ts'
import type { MismatchReason } from './renew-decision.ts'

export interface GenerationMismatch {
  readonly bot: string
  readonly instanceId: string
  /** The instance's generation (0 when there is no instance record). */
  readonly stored: number
  /** The generation in the certificate that asked to renew. */
  readonly presented: number
  readonly reason: MismatchReason
  readonly requestId: string
}

/** The lock message, word for word (tools and the docs match on it). */
export function generationLockMessage(bot: string, instanceId: string): string {
  return `The bot instance ${bot}/${instanceId} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate.`
}

/** The denial returned to the caller (`ERR_ACCESS_DENIED`, 403). */
export function generationMismatchError(
  m: Pick<GenerationMismatch, 'bot' | 'instanceId' | 'stored' | 'presented'>,
) {
  return new AccessDeniedError(
    `renewable cert generation mismatch for bot ${m.bot}/${m.instanceId}: stored=${m.stored}, presented=${m.presented}`,
  )
}

/**
 * Creates the lock and the audit event.
 * @returns the error to throw.
 */
export async function lockForGenerationMismatch(
  deps: AuthDeps,
  m: GenerationMismatch,
): Promise<AccessDeniedError> {
  const lock: Lock = {
    kind: 'lock',
    version: 'v1',
    metadata: { name: deps.random.uuid(), labels: {} },
    spec: {
      target: { bot_instance: `${m.bot}/${m.instanceId}` },
      message: generationLockMessage(m.bot, m.instanceId),
    },
  }
  await deps.resources.create(lock)
  await recordAudit(deps, {
    type: 'cert.generation_mismatch',
    user: `bot-${m.bot}`,
    success: false,
    fields: {
      bot: m.bot,
      instance: m.instanceId,
      stored: m.stored,
      presented: m.presented,
      reason: m.reason,
      request_id: m.requestId,
      lock: lock.metadata.name,
    },
  })
  return generationMismatchError(m)
}
