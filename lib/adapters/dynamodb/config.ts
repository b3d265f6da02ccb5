/**
 * Validation of `DynamoDbStore`'s options, before any client is built. Every failure is an
 * InvalidConfigError (`ERR_INVALID_CONFIG`) naming the offending option; secrets are never echoed.
 */
import { InvalidConfigError } from '../../errors.ts'
import { checkAwsClientConfig } from '../aws-client-config.ts'
import type { DynamoDbClient, DynamoDbClientConfig } from './client.ts'

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/

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
  checkAwsClientConfig(config)
}
