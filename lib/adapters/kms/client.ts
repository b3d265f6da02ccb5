/**
 * The narrow KMS client the key store and signer depend on: only `send` (and `destroy`, to release
 * the sockets of a client the key store built itself). Tests can pass any object of this shape.
 */
import { KMSClient } from '@aws-sdk/client-kms'
import { InvalidConfigError } from '../../errors.ts'
import { type AwsClientConfig, checkAwsClientConfig } from '../aws-client-config.ts'

/** What the adapter uses of a `KMSClient`. */
export type KmsApi = Pick<KMSClient, 'send' | 'destroy'>

/**
 * Builds a real SDK client. Retries are the SDK's standard mode (3 attempts with backoff,
 * throttling included); what still fails reaches the error translator (`errors.ts`).
 *
 * @example
 * ```ts
 * const client = createKmsClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:5000' })
 * ```
 */
export function createKmsClient(config: AwsClientConfig): KmsApi {
  return new KMSClient({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
  })
}

/**
 * Exactly one of `client` and `clientConfig`, each well formed.
 * @throws InvalidConfigError naming the option; credentials are never echoed.
 */
export function checkKmsClientOptions(client: unknown, config: unknown): void {
  if (client !== undefined && config !== undefined) {
    throw new InvalidConfigError('clientConfig', 'give either client or clientConfig, not both')
  }
  if (client !== undefined) {
    if (typeof (client as Partial<KmsApi> | null)?.send !== 'function') {
      throw new InvalidConfigError('client', 'must have a send() method')
    }
    return
  }
  checkAwsClientConfig(config)
}
