/**
 * The bot's half of crash-safe renewal (docs/RENEWAL.md). A renewal is named by a random request
 * id and tied to a new key; both are saved in the bot's storage before the server hears of them,
 * and every attempt of the renewal sends the same id and key, so the server can tell a bot that
 * lost a response (answered again) from a second holder of the identity (locked):
 *
 * 1. no pending renewal → make a key and a request id; save them beside the current identity
 *    (one atomic write);
 * 2. send the renewal, authenticated by the current identity;
 * 3. check the answer certifies the pending key, then save it as the identity, dropping the
 *    pending renewal (one atomic write);
 * 4. only then use it.
 *
 * A crash anywhere leaves the storage at the state before step 1 (nothing happened), or with the
 * pending renewal (the next start resumes at step 2 with the saved id and key), or with the
 * renewed identity. Errors leave the pending renewal in place for the next attempt.
 *
 * An identity that has expired is never sent (`bot-identity.ts` checks first, with
 * {@link expiredIdentity}): the server's proof of possession refuses an expired certificate
 * before it looks at generations, so such a renewal could not succeed, though it could never lock
 * either. If the server's clock says expired while ours did not, its refusal is turned into the
 * same {@link ExpiredIdentityError}.
 */

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import type { IssueResponse } from '../auth/issue-response.ts'
import type { Clock } from '../clock.ts'
import {
  type ErrorContext,
  isBrokerError,
  UnauthenticatedError,
  UpstreamUnavailableError,
} from '../errors.ts'
import { decodeIdentity } from '../identity/x509-encoding.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import { type Random, randomHex } from '../random.ts'
import type { AuthClient } from './auth-client.ts'
import { identityFields } from './identity-summary.ts'
import { generateClientKey } from './keys.ts'
import {
  type BotIdentity,
  certifiesKey,
  type PendingRenewal,
  type StoredIdentity,
  saveIdentity,
  savePendingRenewal,
} from './renewal-storage.ts'

/** Points of a renewal where tests inject crashes. */
export type RenewalStep =
  /** A new key and request id exist in memory only. */
  | 'before-pending'
  /** The pending renewal is saved; the request is about to be sent. */
  | 'before-request'
  /** The server answered; the renewed identity is not saved yet. */
  | 'after-response'
  /** The renewed identity is saved; it is about to be returned. */
  | 'after-persist'

/** Test seams for failure injection; never set in production. */
export interface RenewalHooks {
  at?(step: RenewalStep): void | Promise<void>
}

export interface RenewIdentityDeps {
  readonly client: AuthClient
  readonly storage: Destination
  readonly clock: Clock
  readonly log: Logger
  readonly random: Random
  readonly hooks?: RenewalHooks | undefined
}

/**
 * Renews `stored` (valid, renewable), finishing its pending renewal first if it has one.
 * @throws what the auth client throws (the pending renewal stays saved for a retry);
 *   ExpiredIdentityError when the server refuses the identity as expired (clocks apart);
 *   UpstreamUnavailableError when the answer does not certify the pending key.
 */
export async function renewStoredIdentity(
  deps: RenewIdentityDeps,
  stored: StoredIdentity,
  ttlSeconds: number,
): Promise<BotIdentity> {
  let pending = stored.pending
  if (pending) {
    deps.log.info('Resuming an unfinished renewal of the bot identity', {
      request_id: pending.file.request_id,
      generation: pending.file.generation,
      started: pending.file.started_at,
    })
  } else {
    pending = newPendingRenewal(deps, stored, ttlSeconds)
    await deps.hooks?.at?.('before-pending')
    await savePendingRenewal(deps.storage, stored, pending)
  }
  await deps.hooks?.at?.('before-request')
  const key = createPrivateKey(pending.keyPem)
  const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string
  let issued: IssueResponse
  try {
    issued = await deps.client.renew(
      stored.identity,
      publicPem,
      pending.file.ttl_seconds,
      pending.file.request_id,
    )
  } catch (err) {
    throw refusedAsExpired(deps, stored, err) ?? err
  }
  await deps.hooks?.at?.('after-response')
  if (
    !certifiesKey(issued.tls_cert, key) ||
    issued.identity.generation !== pending.file.generation + 1 ||
    issued.identity.bot_instance_id !== pending.file.bot_instance_id
  ) {
    throw new UpstreamUnavailableError(
      'the auth server answered the renewal with an identity for another key, generation or instance; not saving it',
    )
  }
  const renewed = await saveIdentity(deps.storage, pending.keyPem, issued, stored.state.token_hash)
  await deps.hooks?.at?.('after-persist')
  deps.log.info('Successfully renewed bot identity', identityFields(issued))
  return renewed
}

function newPendingRenewal(
  deps: RenewIdentityDeps,
  stored: StoredIdentity,
  ttlSeconds: number,
): PendingRenewal {
  return {
    keyPem: generateClientKey().privatePem,
    file: {
      request_id: randomHex(deps.random, 16),
      bot_instance_id: stored.state.bot_instance_id,
      generation: stored.state.generation,
      ttl_seconds: ttlSeconds,
      started_at: deps.clock.now().toISOString(),
    },
  }
}

/**
 * A renewable identity past its notAfter cannot be renewed: the server refuses expired
 * certificates, and token joins are single-use, so the bot needs a new token. The code is
 * `ERR_UNAUTHENTICATED` (the identity can no longer authenticate); the message says how to
 * recover; `expires`, `now` and `botName` are for tools such as `doctor`.
 */
export class ExpiredIdentityError extends UnauthenticatedError {
  readonly expires: Date
  readonly now: Date
  /** From the certificate; `undefined` when it names none. */
  readonly botName: string | undefined

  constructor(
    facts: { expires: Date; now: Date; botName: string | undefined; byServer?: boolean },
    ctx?: ErrorContext,
  ) {
    const expires = facts.expires.toISOString()
    const now = facts.now.toISOString()
    const what = facts.byServer
      ? `the auth server refused the renewal because the bot identity has expired by its clock (expires ${expires}, this machine's time ${now}: check its clock)`
      : `the bot identity expired at ${expires} (current time ${now}) and cannot be renewed`
    super(
      `${what}. A token-joined bot with an expired identity needs a new join token: run ` +
        `\`credbroker bots instances add ${facts.botName ?? '<bot>'}\`, put the token in the bot config ` +
        '(onboarding.token), and restart the bot; it joins as a new bot instance',
      ctx,
    )
    this.expires = facts.expires
    this.now = facts.now
    this.botName = facts.botName
  }
}

/**
 * Logs the guide's `Identity has expired. The renewal is likely to fail.` (with `expires` and
 * `current time`), and a warning for a pending renewal that can no longer be collected; returns the
 * error to fail the cycle with.
 */
export function expiredIdentity(log: Logger, stored: StoredIdentity, now: Date): ExpiredIdentityError {
  log.error('Identity has expired. The renewal is likely to fail.', {
    expires: stored.identity.notAfter.toISOString(),
    'current time': now.toISOString(),
  })
  if (stored.pending) {
    // Its only credential, the expired identity, can no longer authenticate the retry.
    log.warn('An unfinished renewal of the expired identity cannot be completed', {
      request_id: stored.pending.file.request_id,
      generation: stored.pending.file.generation,
    })
  }
  return new ExpiredIdentityError({
    expires: stored.identity.notAfter,
    now,
    botName: botNameOf(stored.identity.tlsCertPem),
  })
}

/**
 * The server's answer to an expired certificate (proof of possession, before any generation
 * check, so never a lock): `ERR_UNAUTHENTICATED`, "… the certificate has expired". The reason is
 * matched in the message because only code and message cross the wire.
 */
function refusedAsExpired(
  deps: RenewIdentityDeps,
  stored: StoredIdentity,
  err: unknown,
): ExpiredIdentityError | undefined {
  if (!isBrokerError(err) || err.code !== 'ERR_UNAUTHENTICATED') return undefined
  if (!err.message.includes('the certificate has expired')) return undefined
  const now = deps.clock.now()
  deps.log.error('The auth server refused the renewal: the bot identity has expired by its clock', {
    expires: stored.identity.notAfter.toISOString(),
    'current time': now.toISOString(),
  })
  const facts = { expires: stored.identity.notAfter, now, botName: botNameOf(stored.identity.tlsCertPem) }
  return new ExpiredIdentityError({ ...facts, byServer: true }, { cause: err })
}

function botNameOf(certPem: string): string | undefined {
  try {
    return decodeIdentity(new X509Certificate(certPem).raw).botName
  } catch {
    return undefined
  }
}
