/**
 * The narrow Secrets Manager client the destination adapter depends on: only `send` (and
 * `destroy`, to release the sockets of a client the adapter built itself), plus the checks of the
 * options that build one. Tests can pass any object of this shape.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { InvalidConfigError } from '../../errors.ts'
import { checkAwsClientConfig } from '../aws-client-config.ts'

/** What the adapter uses of a `SecretsManagerClient`. */
export type SecretsManagerApi = Pick<SecretsManagerClient, 'send' | 'destroy'>

/** Static AWS credentials (the SDK's `AwsCredentialIdentity` shape). */
export interface SecretsManagerCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Settings for a client built by {@link createSecretsManagerClient}. */
export interface SecretsManagerClientConfig {
  /** AWS region, e.g. `eu-west-1`. Required: `lib/` does not read the environment. */
  region: string
  /** Endpoint override (moto). Absent in production. */
  endpoint?: string
  /** Static credentials; absent in production, where the SDK's default provider chain applies. */
  credentials?: SecretsManagerCredentials
}

/**
 * Builds a real SDK client. Retries are the SDK's standard mode (3 attempts with backoff,
 * throttling included); what still fails reaches the error translator.
 */
export function createSecretsManagerClient(config: SecretsManagerClientConfig): SecretsManagerApi {
  return new SecretsManagerClient({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
  })
}

/**
 * Exactly one of `client` and `clientConfig`, each well formed.
 * @throws InvalidConfigError naming the option; credentials are never echoed.
 */
export function checkClientOptions(
  client: SecretsManagerApi | undefined,
  config: SecretsManagerClientConfig | undefined,
): void {
  if (client !== undefined && config !== undefined) {
    throw new InvalidConfigError('clientConfig', 'give either client or clientConfig, not both')
  }
  if (client !== undefined) {
    if (typeof client?.send !== 'function')
      throw new InvalidConfigError('client', 'must have a send() method')
    return
  }
  checkAwsClientConfig(config)
}
