/**
 * The auth Lambda's configuration: the service settings every auth process reads
 * ({@link loadConfig}) plus what only the deployed function needs. Parsed once per cold start;
 * every error names the variable.
 *
 * The variables it reads besides {@link loadConfig}'s, with their meaning and defaults, are
 * {@link AUTH_LAMBDA_ENV} (rendered into docs/CONFIGURATION.md by `npm run docs:config`).
 */
import { resolve } from 'node:path'
import { type Env, type EnvVariable, oneOf, optionalString, optionalUrl } from '../config/env.ts'
import { type Config, loadConfig } from '../config/load-config.ts'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'

/** The variables only the auth function reads (it reads `SERVICE_ENV` in `lib/config/load-config.ts` too). */
export const AUTH_LAMBDA_ENV: readonly EnvVariable[] = [
  { name: 'CREDBROKER_STORE', meaning: 'must be `dynamodb` (a Lambda has no durable disk)' },
  { name: 'CREDBROKER_KEY_STORE', meaning: 'where CA keys live: `kms`', default: '`kms`' },
  {
    name: 'CREDBROKER_KMS_KEYS',
    meaning:
      'JSON object: CA key label (`user-tls`, `user-ssh`, `host-tls`, `host-ssh`, `db-tls`, `jwt-jwt`) → KMS key id or ARN',
  },
  { name: 'CREDBROKER_KMS_ENDPOINT', meaning: 'KMS endpoint override (moto in tests)', default: "AWS's" },
  {
    name: 'CREDBROKER_KMS_MESSAGE_TYPE',
    meaning: '`DIGEST` (hash locally, send 32 bytes) or `RAW` (moto, which mishandles `DIGEST`)',
    default: '`DIGEST`',
  },
  {
    name: 'CREDBROKER_PUBLIC_ADDR',
    meaning:
      'the origin clients address (a custom domain in front of the Function URL); proofs of possession are checked against it',
    default: '`https://<Function URL domain>`',
  },
  {
    name: 'CREDBROKER_BOOTSTRAP_FILE',
    meaning: 'YAML resources (roles, bots, join tokens) created on the first start when absent',
    default: 'none',
  },
  {
    name: 'CREDBROKER_STS_ENDPOINT',
    meaning: "where signed `GetCallerIdentity` requests for the region's STS host are sent (moto in tests)",
    default: "AWS's",
  },
]

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
