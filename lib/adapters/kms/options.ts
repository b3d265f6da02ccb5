/**
 * `KmsKeyStore`'s options, their validation (before any client is built; every failure is an
 * InvalidConfigError naming the option) and the IAM actions each configuration needs.
 */
import type { Tag } from '@aws-sdk/client-kms'
import { InvalidConfigError } from '../../errors.ts'
import type { AwsClientConfig } from '../aws-client-config.ts'
import type { KmsApi } from './client.ts'
import { isKmsKeyIdentifier } from './key-id.ts'
import type { KmsMessageType } from './signer.ts'

/** What a key store with only configured (infrastructure-provisioned) keys calls. */
export const KMS_KEY_STORE_IAM_ACTIONS = ['kms:GetPublicKey', 'kms:Sign'] as const

/** What `allowCreate: true` adds: creating tagged keys, and scheduling the deletion of discarded ones. */
export const KMS_KEY_STORE_CREATE_IAM_ACTIONS = [
  'kms:CreateKey',
  'kms:TagResource',
  'kms:ScheduleKeyDeletion',
] as const

/** The exact IAM actions a key store with these options calls. */
export function kmsKeyStoreIamActions(options: { allowCreate?: boolean }): string[] {
  return [...KMS_KEY_STORE_IAM_ACTIONS, ...(options.allowCreate ? KMS_KEY_STORE_CREATE_IAM_ACTIONS : [])]
}

export interface KmsKeyStoreOptions {
  /** A client to use; `close()` does not destroy it. Give this or `clientConfig`. */
  readonly client?: KmsApi
  /** Settings for a client the store builds (and destroys on `close()`). */
  readonly clientConfig?: AwsClientConfig
  /**
   * CA key label (what `lib/ca/authorities.ts` asks for: `user-tls`, `user-ssh`, `host-tls`,
   * `host-ssh`, `db-tls`, `jwt-jwt`) → KMS key id, key ARN, alias name or alias ARN.
   */
  readonly keys?: Readonly<Record<string, string>>
  /** Create a key for a label without a configured one (default false: such a label is an error). */
  readonly allowCreate?: boolean
  /** Default `DIGEST`; `RAW` only against moto (see `signer.ts`). */
  readonly messageType?: KmsMessageType
  /** Extra tags on keys the store creates; keys starting with `credbroker:` or `aws:` are reserved. */
  readonly tags?: Readonly<Record<string, string>>
}

/** The tag on every key the store creates. */
export const MANAGED_TAG = 'credbroker:managed'
/** The tag naming the label a created key serves. */
export const LABEL_TAG = 'credbroker:label'

/** A CA key label (as the file store and the auth Lambda's config accept). */
export const KEY_LABEL = /^[a-z0-9-]{1,64}$/
/** KMS tag keys: 1–128, values: 0–256 of letters, digits, spaces and `_.:/=+-@`. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u
/** KMS allows 50 tags per key; two are ours. */
const MAX_EXTRA_TAGS = 48

export function checkKeyStoreOptions(options: KmsKeyStoreOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidConfigError('options', 'KmsKeyStore options are required')
  }
  const { keys, allowCreate, messageType, tags } = options
  if (keys !== undefined) {
    if (!isPlainObject(keys))
      throw new InvalidConfigError('keys', 'must be an object of CA key label to KMS key')
    for (const [label, keyId] of Object.entries(keys)) {
      if (!KEY_LABEL.test(label)) {
        throw new InvalidConfigError('keys', `"${label}" is not a CA key label (1 to 64 of a-z 0-9 -)`)
      }
      if (!isKmsKeyIdentifier(keyId)) {
        throw new InvalidConfigError(
          `keys.${label}`,
          'must be a KMS key id, key ARN, alias name or alias ARN',
        )
      }
    }
  }
  if (allowCreate !== undefined && typeof allowCreate !== 'boolean') {
    throw new InvalidConfigError('allowCreate', 'must be true or false')
  }
  if (messageType !== undefined && messageType !== 'RAW' && messageType !== 'DIGEST') {
    throw new InvalidConfigError('messageType', 'must be DIGEST (production) or RAW (moto)')
  }
  if (tags !== undefined) checkTags(tags)
}

/** The tags of a key created for `label`: the extra ones, then ours. */
export function createTags(extra: Readonly<Record<string, string>>, label: string): Tag[] {
  return [
    ...Object.entries(extra).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    { TagKey: MANAGED_TAG, TagValue: 'true' },
    { TagKey: LABEL_TAG, TagValue: label },
  ]
}

function checkTags(tags: unknown): void {
  if (!isPlainObject(tags)) throw new InvalidConfigError('tags', 'must be an object of tag key to value')
  const entries = Object.entries(tags)
  if (entries.length > MAX_EXTRA_TAGS) {
    throw new InvalidConfigError(
      'tags',
      `at most ${MAX_EXTRA_TAGS} (KMS allows 50 per key; two are credbroker's)`,
    )
  }
  for (const [key, value] of entries) {
    if (!TAG_KEY.test(key) || /^(?:credbroker|aws):/i.test(key)) {
      throw new InvalidConfigError(
        'tags',
        `"${key}" is not a tag key of ours to set (1 to 128 characters; credbroker: and aws: are reserved)`,
      )
    }
    if (typeof value !== 'string' || !TAG_VALUE.test(value)) {
      throw new InvalidConfigError(
        `tags.${key}`,
        'must be 0 to 256 of letters, digits, spaces and "_.:/=+-@"',
      )
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
