/**
 * IAM join challenges: a random value the bot must put into a signed header of its
 * GetCallerIdentity request, so a captured signed request cannot be replayed for another join.
 *
 * A challenge is bound to one token, lives {@link CHALLENGE_TTL_MS} and is used at most once. It
 * lives in the state store (key `iam_challenge/<sha256 hex>`, value `{"token": …}`, with store
 * expiry), so any instance of a stateless deployment can consume it; consumption is a read and a
 * conditional delete on the revision read, so of two requests racing with one challenge exactly
 * one gets it.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../../clock.ts'
import { NotFoundError, RevisionMismatchError } from '../../errors.ts'
import type { Store } from '../../ports/store.ts'
import type { Random } from '../../random.ts'

export const CHALLENGE_TTL_MS = 5 * 60_000
export const CHALLENGE_BYTES = 32
/** Longest header value we bother to look up (a real challenge is 43 characters). */
const MAX_CHALLENGE_LENGTH = 256

export interface ChallengeDeps {
  readonly store: Store
  readonly clock: Clock
  readonly random: Random
}

export interface IssuedChallenge {
  /** base64url of {@link CHALLENGE_BYTES} random bytes, no padding. */
  readonly challenge: string
  readonly expires: Date
}

export function challengeKey(challenge: string): string {
  return `iam_challenge/${createHash('sha256').update(challenge, 'utf8').digest('hex')}`
}

/** Creates a challenge for `token` (the caller has checked that the token exists and is `iam`). */
export async function issueChallenge(deps: ChallengeDeps, token: string): Promise<IssuedChallenge> {
  const challenge = Buffer.from(deps.random.bytes(CHALLENGE_BYTES)).toString('base64url')
  const expires = new Date(deps.clock.now().getTime() + CHALLENGE_TTL_MS)
  await deps.store.create(challengeKey(challenge), JSON.stringify({ token }), { expires })
  return { challenge, expires }
}

/**
 * Deletes the challenge if it exists.
 * @returns the token it was issued for, or undefined when it is unknown, expired, already used or
 *   lost to a concurrent request
 */
export async function consumeChallenge(deps: ChallengeDeps, challenge: string): Promise<string | undefined> {
  if (challenge.length === 0 || challenge.length > MAX_CHALLENGE_LENGTH) return undefined
  const key = challengeKey(challenge)
  const item = await deps.store.get(key)
  if (!item) return undefined
  try {
    await deps.store.delete(key, { revision: item.revision })
  } catch (err) {
    if (err instanceof RevisionMismatchError || err instanceof NotFoundError) return undefined
    throw err
  }
  try {
    const value = JSON.parse(item.value) as { token?: unknown }
    return typeof value.token === 'string' ? value.token : undefined
  } catch {
    return undefined
  }
}
