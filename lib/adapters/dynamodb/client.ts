/**
 * The narrow DynamoDB client the store adapter depends on: only `send` (and `destroy`, to release
 * sockets of a client the adapter built itself). Tests and other callers can pass any object of
 * this shape, including a shared `DynamoDBClient`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'

/** What the adapter uses of a `DynamoDBClient`. */
export type DynamoDbClient = Pick<DynamoDBClient, 'send' | 'destroy'>

/** Static AWS credentials (the SDK's `AwsCredentialIdentity` shape). */
export interface DynamoDbCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Settings for a client built by {@link createDynamoDbClient}. */
export interface DynamoDbClientConfig {
  /** AWS region, e.g. `eu-west-1`. Required: `lib/` does not read the environment. */
  region: string
  /** Endpoint override (moto, DynamoDB Local). Absent in production. */
  endpoint?: string
  /**
   * Static credentials. Absent in production, where the SDK's default provider chain picks up the
   * Lambda role's credentials.
   */
  credentials?: DynamoDbCredentials
}

/**
 * Builds a real SDK client. Retries are the SDK's standard mode (3 attempts with backoff, throttling
 * included); what still fails afterwards reaches the error translator.
 *
 * @example
 * ```ts
 * const client = createDynamoDbClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:5000' })
 * ```
 */
export function createDynamoDbClient(config: DynamoDbClientConfig): DynamoDbClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
  })
}
