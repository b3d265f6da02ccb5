/**
 * The auth Lambda's configuration: the service settings every auth process reads
 * ({@link loadConfig}) plus what only the deployed function needs. Parsed once per cold start;
 * every error names the variable.
 *
 * | variable                          | meaning                                                        | default |
 * |-----------------------------------|----------------------------------------------------------------|---------|
 * | `CREDBROKER_STORE`                | must be `dynamodb` (a Lambda has no durable disk)              |         |
 * | `CREDBROKER_KEY_STORE`            | where CA keys live: `kms`                                      | `kms`   |
 * | `CREDBROKER_KMS_KEYS`             | JSON object: CA key label (`user-tls`, …) → KMS key id or ARN  |         |
 * | `CREDBROKER_KMS_ENDPOINT`         | KMS endpoint override (moto in tests)                          | AWS's   |
 * | `CREDBROKER_KMS_MESSAGE_TYPE`     | `DIGEST` (hash locally) or `RAW` (moto, which mishandles DIGEST)| `DIGEST`|
 * | `CREDBROKER_PUBLIC_ADDR`          | the origin clients address (a custom domain in front of the Function URL); proofs of possession are checked against it | `https://<Function URL domain>` |
 * | `CREDBROKER_BOOTSTRAP_FILE`       | YAML resources created on start when absent (roles, bots, join tokens) | none |
 * | `CREDBROKER_STS_ENDPOINT`         | where signed GetCallerIdentity requests for the region's STS host are sent (moto in tests) | AWS's |
 *
 * Plus `CREDBROKER_DYNAMODB_TABLE`, `CREDBROKER_DYNAMODB_ENDPOINT`, `AWS_REGION`,
 * `CREDBROKER_CLUSTER_NAME`, `CREDBROKER_LOG_LEVEL` and `CREDBROKER_IAM_EXTRA_STS_HOSTS` as in
 * {@link loadConfig}.
 */
import { resolve } from 'node:path'
import { type Env, oneOf, optionalString, optionalUrl } from '../config/env.ts'
import { type Config, loadConfig } from '../config/load-config.ts'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'

export interface AuthLambdaConfig {
  readonly service: Config & { readonly store: Extract<Config['store'], { kind: 'dynamodb' }> }
  readonly kms: {
    readonly keys: Readonly<Record<string, string>>
    readonly endpoint?: string
    readonly messageType: 'DIGEST' | 'RAW'
  }
  /** Origin (`https://auth.example.com`) the app sees requests on; absent: the Function URL's. */
  readonly publicAddr?: string
  /** Absolute path of the bootstrap resources file. */
  readonly bootstrapFile?: string
  /** Endpoint override for `sts.<region>.amazonaws.com` (tests). */
  readonly stsEndpoint?: URL
}

/** A CA key label: what `lib/ca/authorities.ts` asks the key store for. */
const KEY_LABEL = /^[a-z0-9-]{1,64}$/

export function loadAuthLambdaConfig(env: Env, cwd: string): AuthLambdaConfig {
  const service = loadConfig(env, cwd)
  if (service.store.kind !== 'dynamodb') {
    throw new InvalidConfigError('CREDBROKER_STORE', 'must be dynamodb in the auth function')
  }
  oneOf(env, 'CREDBROKER_KEY_STORE', ['kms'] as const, 'kms')
  const endpoint = optionalUrl(env, 'CREDBROKER_KMS_ENDPOINT')
  const publicAddr = optionalUrl(env, 'CREDBROKER_PUBLIC_ADDR')
  if (publicAddr !== undefined && publicAddr.href !== `${publicAddr.origin}/`) {
    throw new InvalidConfigError('CREDBROKER_PUBLIC_ADDR', 'must be an origin without a path or query')
  }
  const bootstrap = optionalString(env, 'CREDBROKER_BOOTSTRAP_FILE')
  const stsEndpoint = optionalUrl(env, 'CREDBROKER_STS_ENDPOINT')
  return deepFreeze({
    service: service as AuthLambdaConfig['service'],
    kms: {
      keys: kmsKeys(env),
      ...(endpoint && { endpoint: endpoint.toString() }),
      messageType: oneOf(env, 'CREDBROKER_KMS_MESSAGE_TYPE', ['DIGEST', 'RAW'] as const, 'DIGEST'),
    },
    ...(publicAddr && { publicAddr: publicAddr.origin }),
    ...(bootstrap !== undefined && { bootstrapFile: resolve(cwd, bootstrap) }),
    ...(stsEndpoint && { stsEndpoint }),
  })
}

function kmsKeys(env: Env): Record<string, string> {
  const name = 'CREDBROKER_KMS_KEYS'
  const raw = optionalString(env, name)
  if (raw === undefined)
    throw new InvalidConfigError(name, 'is required: a JSON object of CA key label to KMS key')
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw new InvalidConfigError(name, 'must be JSON such as {"user-tls":"arn:aws:kms:…"}')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidConfigError(name, 'must be a JSON object of CA key label to KMS key')
  }
  const keys: Record<string, string> = {}
  for (const [label, key] of Object.entries(value)) {
    if (!KEY_LABEL.test(label)) throw new InvalidConfigError(name, `"${label}" is not a CA key label`)
    if (typeof key !== 'string' || key.trim() === '') {
      throw new InvalidConfigError(name, `the key for "${label}" must be a non-empty string`)
    }
    keys[label] = key.trim()
  }
  return keys
}
