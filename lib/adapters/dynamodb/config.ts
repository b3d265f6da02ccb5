/**
 * Validation of `DynamoDbStore`'s options, before any client is built. Every failure is an
 * InvalidConfigError (`ERR_INVALID_CONFIG`) naming the offending option; secrets are never echoed.
 */
import { InvalidConfigError } from '../../errors.ts'
import type { DynamoDbClient, DynamoDbClientConfig } from './client.ts'

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/
const REGION = /^[a-z0-9]+(-[a-z0-9]+)+$/

/** `tableName` must be a valid DynamoDB table name: 3–255 characters of `A–Z a–z 0–9 _ . -`. */
export function checkTableName(tableName: unknown): asserts tableName is string {
  if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
    throw new InvalidConfigError('tableName', 'must be 3 to 255 characters of A-Z a-z 0-9 _ . -')
  }
}

/** At most one of `client` and `clientConfig`; a given `client` must have a `send()` method. */
export function checkClientChoice(
  client: DynamoDbClient | undefined,
  clientConfig: DynamoDbClientConfig | undefined,
): void {
  if (client !== undefined && clientConfig !== undefined) {
    throw new InvalidConfigError('clientConfig', 'give either client or clientConfig, not both')
  }
  if (client !== undefined && typeof client?.send !== 'function') {
    throw new InvalidConfigError('client', 'must have a send() method')
  }
}

/** Settings for a client the store builds: a region, and optionally an http(s) endpoint and keys. */
export function checkClientConfig(
  config: DynamoDbClientConfig | undefined,
): asserts config is DynamoDbClientConfig {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidConfigError('clientConfig', 'required when no client is given')
  }
  if (typeof config.region !== 'string' || !REGION.test(config.region)) {
    throw new InvalidConfigError('clientConfig.region', 'must be an AWS region such as us-east-1')
  }
  if (config.endpoint !== undefined) {
    let protocol: string | undefined
    try {
      protocol = new URL(config.endpoint).protocol
    } catch {
      protocol = undefined
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new InvalidConfigError('clientConfig.endpoint', 'must be an http or https URL')
    }
  }
  const credentials = config.credentials
  if (
    credentials !== undefined &&
    (typeof credentials?.accessKeyId !== 'string' ||
      credentials.accessKeyId === '' ||
      typeof credentials.secretAccessKey !== 'string' ||
      credentials.secretAccessKey === '')
  ) {
    // Never echo the values: they are secrets.
    throw new InvalidConfigError(
      'clientConfig.credentials',
      'needs a non-empty accessKeyId and secretAccessKey',
    )
  }
}
