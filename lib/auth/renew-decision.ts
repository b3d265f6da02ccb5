/**
 * The rule at the heart of renewal, as a pure function: given the bot instance record (or its
 * absence) and what a renewal request presents, decide whether to commit a new generation,
 * answer a retry of the renewal already committed, or treat the request as a second holder of
 * the identity. No I/O, no clock: `renew.ts` reads the record, acts on the decision, and asks
 * again when its compare-and-swap loses a race.
 *
 * | stored vs presented        | last renewal (request id, key)   | decision                    |
 * |----------------------------|----------------------------------|-----------------------------|
 * | no instance record         | –                                | mismatch (`no_instance`)    |
 * | stored = presented         | any                              | commit presented + 1        |
 * | stored = presented + 1     | same request id and same key     | replay that renewal         |
 * | stored = presented + 1     | same request id, another key     | mismatch (`public_key`)     |
 * | stored = presented + 1     | another request id (or none)     | mismatch (`request_id`)     |
 * | anything else              | –                                | mismatch (`generation`)     |
 *
 * Only the last committed renewal is retryable: once the instance moves on, a retry of an older
 * renewal presents a generation two or more behind and is a mismatch like any stale certificate.
 */
import type { BotInstance } from '../resources/types.ts'

export interface RenewalAttempt {
  /** The generation in the certificate that authenticated the request. */
  readonly presented: number
  readonly requestId: string
  /** Fingerprint of the public key the request asks a certificate for (`fingerprint()`). */
  readonly publicKeyFingerprint: string
}

export type MismatchReason = 'no_instance' | 'generation' | 'request_id' | 'public_key'

export type RenewalDecision =
  /** First sight of this renewal: move the instance from `presented` to `generation`. */
  | { readonly kind: 'commit'; readonly generation: number }
  /** A retry of the renewal committed last: issue `generation` again, valid until `notAfter`. */
  | { readonly kind: 'replay'; readonly generation: number; readonly notAfter: Date }
  /** A second holder (or a bot instance that no longer exists): lock, audit, deny. */
  | { readonly kind: 'mismatch'; readonly stored: number; readonly reason: MismatchReason }

export function decideRenewal(instance: BotInstance | undefined, attempt: RenewalAttempt): RenewalDecision {
  if (instance === undefined) return { kind: 'mismatch', stored: 0, reason: 'no_instance' }
  const stored = instance.status.generation
  if (stored === attempt.presented) return { kind: 'commit', generation: stored + 1 }
  const last = instance.status.last_renewal
  if (stored !== attempt.presented + 1 || last === undefined || last.generation !== stored) {
    return {
      kind: 'mismatch',
      stored,
      reason: stored === attempt.presented + 1 ? 'request_id' : 'generation',
    }
  }
  if (last.request_id !== attempt.requestId) return { kind: 'mismatch', stored, reason: 'request_id' }
  // The request id alone is no credential: a retry must ask for the very key that was committed,
  // so whatever it gets back is useless without the private key saved with the request id.
  if (last.public_key_fingerprint !== attempt.publicKeyFingerprint) {
    return { kind: 'mismatch', stored, reason: 'public_key' }
  }
  return { kind: 'replay', generation: stored, notAfter: new Date(last.not_after) }
}
