/**
 * What the code in `lib/` expects of the infrastructure, as plain data: the state table's shape
 * and the CA keys. Pure, so unit tests hold it against the code itself (the store adapter's
 * `createStoreTable`, the CA's key requests, the KMS key store's key specs).
 */

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

/**
 * ECDSA P-256 for every CA key: X.509 and JWT keys are P-256 anyway, and the SSH CAs fall back to
 * P-256 where the key store holds no Ed25519 keys (the KMS key store does not).
 */
export const CA_KEY_SPEC = 'ECC_NIST_P256'
