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
 */

import { createPrivateKey, createPublicKey } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { UpstreamUnavailableError } from '../errors.ts'
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
  const issued = await deps.client.renew(
    stored.identity,
    publicPem,
    pending.file.ttl_seconds,
    pending.file.request_id,
  )
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
