/**
 * Renewal of a renewable (token-joined) bot identity, with Machine ID's theft detection and
 * without its crash hazard (gravitational/teleport#13228). The protocol is in docs/RENEWAL.md.
 *
 * The certificate carries a generation; the bot instance stores the last one issued and the last
 * renewal committed (request id, public key, notAfter). Each request carries the bot's random
 * request id and the public key it wants certified. Then (`renew-decision.ts`):
 * - stored = presented → commit: the instance moves to presented + 1 and records this renewal,
 *   in one compare-and-swap, so of two concurrent renewals exactly one commits;
 * - the same renewal again (stored = presented + 1, same request id, same key) → the renewed
 *   identity is issued again, with the committed notAfter: a bot that lost the response, or
 *   crashed before saving it, gets it now instead of a lock;
 * - anything else, including a missing instance record → a lock on the bot instance, an audit
 *   event, and `ERR_ACCESS_DENIED` naming the stored and presented generations.
 *
 * A compare-and-swap that loses to another writer (a heartbeat, or a concurrent copy of this very
 * request) is not a verdict: the record is read again and the decision made again.
 */
import { issueUserCertificates } from '../ca/issue-user-certificates.ts'
import { AccessDeniedError, NotFoundError, RevisionMismatchError, ThrottledError } from '../errors.ts'
import type { Identity } from '../identity/identity.ts'
import type { BotInstance } from '../resources/types.ts'
import { HISTORY_LIMIT } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { type IssueResponse, issueResponse } from './issue-response.ts'
import { fingerprint, INSTANCE_EXPIRY_MARGIN_MS } from './join-token.ts'
import { assertCallerNotLocked } from './locks.ts'
import type { CallerPublicKey } from './public-key.ts'
import { decideRenewal, type RenewalAttempt } from './renew-decision.ts'
import { lockForGenerationMismatch } from './renew-lock.ts'

export interface RenewRequest {
  readonly ttlMs: number
  readonly publicKey: CallerPublicKey
  /** The bot's id for this renewal, the same on every retry (validated by the HTTP layer). */
  readonly requestId: string
}

/** Compare-and-swap attempts before giving up with a retryable `ERR_THROTTLED`. */
const MAX_ATTEMPTS = 5

/**
 * @throws AccessDeniedError (`ERR_ACCESS_DENIED`) for a caller that is not a renewable bot
 *   identity, a lock in force, a generation mismatch (after locking the instance) or a retry of a
 *   renewal whose identity has already expired; ThrottledError when the instance keeps changing.
 */
export async function renewBotIdentity(
  deps: AuthDeps,
  caller: Caller,
  req: RenewRequest,
): Promise<IssueResponse> {
  const who = caller.identity
  const { botName, botInstanceId } = who
  if (!who.renewable || botName === undefined || botInstanceId === undefined || who.generation < 1) {
    throw new AccessDeniedError('only a renewable bot identity can be renewed')
  }
  const instanceName = `${botName}/${botInstanceId}`
  await assertCallerNotLocked(deps, caller)
  const attempt: RenewalAttempt = {
    presented: who.generation,
    requestId: req.requestId,
    publicKeyFingerprint: fingerprint(req.publicKey.spki),
  }

  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const instance = await readInstance(deps, instanceName)
    const decision = decideRenewal(instance, attempt)
    switch (decision.kind) {
      case 'mismatch':
        throw await lockForGenerationMismatch(deps, {
          bot: botName,
          instanceId: botInstanceId,
          stored: decision.stored,
          presented: who.generation,
          reason: decision.reason,
          requestId: req.requestId,
        })
      case 'replay':
        return issueRenewed(deps, who, req, decision.generation, decision.notAfter, true)
      case 'commit': {
        if (instance === undefined) throw new TypeError('decideRenewal committed without an instance')
        const now = deps.clock.now()
        const notAfter = new Date(now.getTime() + Math.min(req.ttlMs, deps.limits.maxRenewableTtlMs))
        const next = committed(instance, attempt, decision.generation, now, notAfter)
        try {
          await deps.resources.update(next, { revision: instance.metadata.revision ?? '' })
        } catch (err) {
          if (err instanceof RevisionMismatchError) continue // someone else wrote: decide again
          throw err
        }
        return issueRenewed(deps, who, req, decision.generation, notAfter, false)
      }
    }
  }
  throw new ThrottledError(`bot instance ${instanceName} kept changing during the renewal; try again`)
}

async function readInstance(deps: AuthDeps, name: string): Promise<BotInstance | undefined> {
  try {
    return await deps.resources.get('bot_instance', name)
  } catch (err) {
    if (err instanceof NotFoundError) return undefined
    throw err
  }
}

/** The instance after committing this renewal: new generation, this renewal recorded. */
function committed(
  instance: BotInstance,
  attempt: RenewalAttempt,
  generation: number,
  now: Date,
  notAfter: Date,
): BotInstance {
  const auth = {
    authenticated_at: now.toISOString(),
    join_method: 'token' as const,
    generation,
    public_key_fingerprint: attempt.publicKeyFingerprint,
  }
  return {
    ...instance,
    metadata: {
      ...instance.metadata,
      expires: new Date(notAfter.getTime() + INSTANCE_EXPIRY_MARGIN_MS).toISOString(),
    },
    status: {
      ...instance.status,
      generation,
      last_renewal: {
        request_id: attempt.requestId,
        generation,
        public_key_fingerprint: attempt.publicKeyFingerprint,
        not_after: notAfter.toISOString(),
        committed_at: now.toISOString(),
      },
      latest_authentications: [...instance.status.latest_authentications, auth].slice(-HISTORY_LIMIT),
    },
  }
}

/** Certificates for the renewed identity (again, for a replay) and the audit event. */
async function issueRenewed(
  deps: AuthDeps,
  who: Identity,
  req: RenewRequest,
  generation: number,
  notAfter: Date,
  replay: boolean,
): Promise<IssueResponse> {
  const now = deps.clock.now()
  if (notAfter.getTime() <= now.getTime()) {
    // The renewal was committed but never collected while its identity was valid. Not theft, so
    // no lock; but nothing can be issued past the committed notAfter either.
    throw new AccessDeniedError(
      `the renewal of bot ${who.botName}/${who.botInstanceId} to generation ${generation} expired at ${notAfter.toISOString()} before it was collected; join again with a new token (bots instances add)`,
    )
  }
  const identity = { ...who, generation }
  const certs = await issueUserCertificates(
    deps.cas.user,
    { identity, publicKey: req.publicKey, now, notAfter },
    deps.random,
  )
  await recordAudit(deps, {
    type: 'cert.renewed',
    user: who.user,
    success: true,
    fields: {
      bot: who.botName ?? '',
      instance: who.botInstanceId ?? '',
      generation,
      request_id: req.requestId,
      retry: replay,
      serial: certs.serial,
      expires: notAfter.toISOString(),
    },
  })
  return issueResponse(identity, certs)
}
