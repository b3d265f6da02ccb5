/**
 * What the code in `lib/` expects of the infrastructure, as plain data: the state table's shape
 * and the CA keys. Pure, so unit tests hold it against the code itself (the store adapter's
 * `createStoreTable`, the CA's key requests, the KMS key store's key specs).
 */
import { AUTH_EVENT_SOURCE } from '../lib/adapters/eventbridge/source.ts'
import { PUBLISHED_AUDIT_TYPES } from '../lib/auth/audit.ts'

/**
 * The DynamoDB store adapter's table (`lib/adapters/dynamodb/`): a string `pk` (HASH) and `sk`
 * (RANGE) key, expiry in the numeric `ttl` attribute (epoch seconds), no index and no stream.
 */
export const STATE_TABLE_SCHEMA = {
  fields: { pk: 'string', sk: 'string' },
  primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
  ttl: 'ttl',
} as const

/**
 * The labels the CAs ask their key store for (`<ca>-<purpose>`, `lib/ca/authorities.ts`): one
 * KMS key each, handed to the auth function as `CREDBROKER_KMS_KEYS`.
 */
export const CA_KEY_LABELS = ['user-tls', 'user-ssh', 'host-tls', 'host-ssh', 'db-tls', 'jwt-jwt'] as const
export type CaKeyLabel = (typeof CA_KEY_LABELS)[number]

/** A CA key generation provisioned ahead of a rotation: its keys are `<ca>-<purpose>-<generation>`. */
export interface CaKeyGeneration {
  readonly ca: 'user' | 'host' | 'db' | 'jwt'
  readonly generation: number
}

/** Every label to provision: generation 0's, then each extra generation's (`user-tls-1`, …). */
export function caKeyLabels(generations: readonly CaKeyGeneration[]): string[] {
  const extra = generations.flatMap(({ ca, generation }) =>
    CA_KEY_LABELS.filter((label) => label.startsWith(`${ca}-`)).map((label) => `${label}-${generation}`),
  )
  return [...CA_KEY_LABELS, ...extra]
}

/**
 * ECDSA P-256 for every CA key: X.509 and JWT keys are P-256 anyway, and the SSH CAs fall back to
 * P-256 where the key store holds no Ed25519 keys (the KMS key store does not).
 */
export const CA_KEY_SPEC = 'ECC_NIST_P256'

/**
 * The events that trigger the reissue function: the rule on the auth events bus matches what the
 * auth service publishes (`lib/auth/audit.ts`, `PUBLISHED_AUDIT_TYPES`, with the sink's source),
 * and the function checks the same again (`lib/serverless/reissue-event.ts`).
 */
export const REISSUE_TRIGGER_PATTERN = {
  source: [AUTH_EVENT_SOURCE],
  'detail-type': [...PUBLISHED_AUDIT_TYPES],
} as const

/**
 * Where the reissue function keeps its replies by `Idempotency-Key`: a secret under the bot's
 * prefix (so its existing Secrets Manager permissions cover it), with a leading dot so that no
 * output's secret is likely to take the name.
 */
export const REISSUE_REPLIES_SECRET = '.reissue-replies'
