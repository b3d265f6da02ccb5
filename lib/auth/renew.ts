/**
 * Renewal of a renewable (token-joined) bot identity, with Machine ID's theft detection: the
 * certificate carries a generation; the bot instance stores the last one issued. Equal → the
 * instance moves to generation+1 (a compare-and-swap, so two concurrent renewals cannot both
 * win) and the new identity carries it. Different, or no instance record → a lock on the bot
 * instance, an audit event, and a denial naming both generations.
 *
 * Crash safety (a bot that loses the response after the counter moved) is handled separately;
 * see docs/RENEWAL.md when it lands.
 */
import { issueUserCertificates } from '../ca/issue-user-certificates.ts'
import { AccessDeniedError, NotFoundError, RevisionMismatchError } from '../errors.ts'
import type { BotInstance, Lock } from '../resources/types.ts'
import { HISTORY_LIMIT } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { lockSubject } from './impersonate.ts'
import { type IssueResponse, issueResponse } from './issue-response.ts'
import { fingerprint, INSTANCE_EXPIRY_MARGIN_MS } from './join-token.ts'
import { assertNotLocked } from './locks.ts'
import type { CallerPublicKey } from './public-key.ts'

export interface RenewRequest {
  readonly ttlMs: number
  readonly publicKey: CallerPublicKey
}

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
  await assertNotLocked(deps.resources, lockSubject(who))
  const instanceName = `${botName}/${botInstanceId}`
  const instance = await deps.resources.get('bot_instance', instanceName).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined
    throw err
  })
  const stored = instance?.status.generation ?? 0
  if (!instance || stored !== who.generation) {
    await lockInstance(deps, botName, botInstanceId, stored, who.generation)
    throw new AccessDeniedError(
      `renewable cert generation mismatch for bot ${instanceName}: stored=${stored}, presented=${who.generation}`,
    )
  }

  const now = deps.clock.now()
  const notAfter = new Date(now.getTime() + Math.min(req.ttlMs, deps.limits.maxRenewableTtlMs))
  const generation = stored + 1
  const auth = {
    authenticated_at: now.toISOString(),
    join_method: 'token' as const,
    generation,
    public_key_fingerprint: fingerprint(req.publicKey.spki),
  }
  const next: BotInstance = {
    ...instance,
    metadata: {
      ...instance.metadata,
      expires: new Date(notAfter.getTime() + INSTANCE_EXPIRY_MARGIN_MS).toISOString(),
    },
    status: {
      ...instance.status,
      generation,
      latest_authentications: [...instance.status.latest_authentications, auth].slice(-HISTORY_LIMIT),
    },
  }
  try {
    await deps.resources.update(next, { revision: instance.metadata.revision ?? '' })
  } catch (err) {
    // Another renewal with the same generation won the race: that is a second holder.
    if (err instanceof RevisionMismatchError) {
      await lockInstance(deps, botName, botInstanceId, generation, who.generation)
      throw new AccessDeniedError(
        `renewable cert generation mismatch for bot ${instanceName}: stored=${generation}, presented=${who.generation}`,
      )
    }
    throw err
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
      bot: botName,
      instance: botInstanceId,
      generation,
      serial: certs.serial,
      expires: notAfter.toISOString(),
    },
  })
  return issueResponse(identity, certs)
}

async function lockInstance(
  deps: AuthDeps,
  bot: string,
  id: string,
  stored: number,
  presented: number,
): Promise<void> {
  const lock: Lock = {
    kind: 'lock',
    version: 'v1',
    metadata: { name: deps.random.uuid(), labels: {} },
    spec: {
      target: { bot_instance: `${bot}/${id}` },
      message: `The bot instance ${bot}/${id} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate.`,
    },
  }
  await deps.resources.create(lock)
  await recordAudit(deps, {
    type: 'cert.generation_mismatch',
    user: `bot-${bot}`,
    success: false,
    fields: { bot, instance: id, stored, presented, lock: lock.metadata.name },
  })
}
