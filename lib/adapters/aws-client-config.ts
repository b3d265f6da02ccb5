/** Checks shared by every AWS adapter's client settings; errors name the field, never a secret. */
import { InvalidConfigError } from '../errors.ts'

/** Settings for an SDK client an adapter builds itself. */
export interface AwsClientConfig {
  /** AWS region, e.g. `eu-west-1`. Required: `lib/` does not read the environment. */
  region: string
  /** Endpoint override (moto, a VPC endpoint). Absent in production. */
  endpoint?: string
  /** Static credentials; absent in production, where the SDK's default provider chain applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

const REGION = /^[a-z0-9]+(-[a-z0-9]+)+$/

/** A region, an optional http(s) endpoint and optional non-empty static keys. */
export function checkAwsClientConfig(config: unknown): asserts config is AwsClientConfig {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidConfigError('clientConfig', 'required when no client is given')
  }
  const { region, endpoint, credentials } = config as Partial<AwsClientConfig>
  if (typeof region !== 'string' || !REGION.test(region)) {
    throw new InvalidConfigError('clientConfig.region', 'must be an AWS region such as us-east-1')
  }
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    throw new InvalidConfigError('clientConfig.endpoint', 'must be an http or https URL')
  }
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

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}
