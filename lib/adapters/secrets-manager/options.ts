/**
 * Validation of `SecretsManagerDestination`'s options, before any client is built, and the
 * readers' resource policy. Every failure is an InvalidConfigError naming the option.
 */
import type { Clock } from '../../clock.ts'
import { InvalidConfigError } from '../../errors.ts'
import type { WriteMeta } from '../../ports/destination.ts'
import type { SecretsManagerApi, SecretsManagerClientConfig } from './client.ts'
import type { SecretMetadata } from './document.ts'

export const SECRETS_MANAGER_DESTINATION_IAM_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:TagResource',
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:PutResourcePolicy',
] as const

export interface SecretsManagerDestinationOptions {
  /** The secret's name: 1–512 of `[A-Za-z0-9/_+=.@-]`. */
  name: string
  /** A client to use; `close()` does not destroy it. */
  client?: SecretsManagerApi
  /** Settings for a client the destination builds (and destroys on `close()`). */
  clientConfig?: SecretsManagerClientConfig
  /** KMS key for a secret this destination creates; absent: the account's `aws/secretsmanager`. */
  kmsKeyId?: string
  /** IAM role or user ARNs allowed to read the secret (its resource policy). */
  readers?: readonly string[]
  /** Values of the `credbroker:bot` and `credbroker:output` tags. */
  tags: { bot: string; output: string }
  /** The secret's description when created. */
  description?: string
  /** Pass-through fields of every document; a write's `metadata` overrides them key by key. */
  metadata?: SecretMetadata
  /** Sets `written_at`. */
  clock?: Clock
}

/** {@link WriteMeta} plus pass-through fields for this write's document. */
export interface SecretsManagerWriteMeta extends WriteMeta {
  readonly metadata?: SecretMetadata
}

/** The tag that marks a secret as credbroker's to overwrite. */
export const MANAGED_TAG = 'credbroker:managed'

/** AWS's rule for secret names. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/
/** AWS's rule for tag values (1–256 here: an empty bot or output name is a mistake). */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u
/** A KMS key id, alias, or key or alias ARN (Secrets Manager checks the rest). */
const KMS_KEY_ID = /^[A-Za-z0-9:/_-]{1,2048}$/
/** An IAM role or user ARN (the config schema's rule). */
const READER_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:role|user)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/
const MAX_READERS = 32

interface CheckedOptions {
  name: unknown
  kmsKeyId?: unknown
  readers?: unknown
  tags: unknown
  description?: unknown
}

export function checkOptions(options: CheckedOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidConfigError('options', 'SecretsManagerDestination options are required')
  }
  const { name, kmsKeyId, readers, tags, description } = options
  if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
    throw new InvalidConfigError('name', 'must be a secret name: 1 to 512 of letters, digits and "/_+=.@-"')
  }
  if (kmsKeyId !== undefined && (typeof kmsKeyId !== 'string' || !KMS_KEY_ID.test(kmsKeyId))) {
    throw new InvalidConfigError('kmsKeyId', 'must be a KMS key id, alias or ARN')
  }
  if (readers !== undefined) {
    if (!Array.isArray(readers) || readers.length > MAX_READERS) {
      throw new InvalidConfigError(
        'readers',
        `must be a list of at most ${MAX_READERS} IAM role or user ARNs`,
      )
    }
    readers.forEach((arn: unknown, i) => {
      if (typeof arn !== 'string' || !READER_ARN.test(arn)) {
        throw new InvalidConfigError(
          `readers[${i}]`,
          'must be an IAM role or user ARN such as "arn:aws:iam::123456789012:role/app"',
        )
      }
      if (readers.indexOf(arn) !== i) throw new InvalidConfigError(`readers[${i}]`, `${arn} is listed twice`)
    })
  }
  const t = tags as { bot?: unknown; output?: unknown } | undefined
  for (const key of ['bot', 'output'] as const) {
    const value = t?.[key]
    if (typeof value !== 'string' || !TAG_VALUE.test(value)) {
      throw new InvalidConfigError(
        `tags.${key}`,
        'must be 1 to 256 of letters, digits, spaces and "_.:/=+-@"',
      )
    }
  }
  if (description !== undefined && (typeof description !== 'string' || description.length > 2048)) {
    throw new InvalidConfigError('description', 'must be a string of at most 2048 characters')
  }
}

/** The resource policy that lets exactly `readers` read the secret it is attached to. */
export function readerPolicy(readers: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'CredbrokerReaders',
        Effect: 'Allow',
        Principal: { AWS: [...readers] },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: '*',
      },
    ],
  }
}
