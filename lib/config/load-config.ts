/**
 * The auth service's configuration, parsed once per process (or Lambda cold start) from the
 * environment, validated with errors that name the variable, typed and frozen.
 *
 * | variable                      | meaning                                             | default           |
 * |-------------------------------|-----------------------------------------------------|-------------------|
 * | `CREDBROKER_STORE`            | `embedded`, `memory` or `dynamodb`                  | `embedded`        |
 * | `CREDBROKER_STATE_DIR`        | directory of the embedded state                     | `.credbroker`     |
 * | `CREDBROKER_DYNAMODB_TABLE`   | table name (required for `dynamodb`)                |                   |
 * | `CREDBROKER_DYNAMODB_ENDPOINT`| endpoint override (a local moto server in tests)    | AWS's endpoint    |
 * | `AWS_REGION`                  | region (required for `dynamodb`)                    |                   |
 * | `CREDBROKER_CLUSTER_NAME`     | the cluster's name, written into every certificate  | `credbroker.local`|
 * | `CREDBROKER_LOG_LEVEL`        | `debug`, `info`, `warn` or `error`                  | `info`            |
 * | `CREDBROKER_LISTEN`           | `host:port` the local auth service listens on       | `127.0.0.1:3025`  |
 * | `CREDBROKER_IAM_EXTRA_STS_HOSTS` | comma-separated STS hosts accepted for IAM joins besides AWS's (VPC endpoints) | none |
 *
 * Nothing in `lib/` reads `process.env` except {@link loadConfig}'s default argument.
 */
import { resolve } from 'node:path'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import type { LogLevel } from '../log.ts'
import { type Env, matching, oneOf, optionalString, optionalUrl, requiredString } from './env.ts'

export type StoreConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'embedded'; readonly stateDir: string }
  | {
      readonly kind: 'dynamodb'
      readonly tableName: string
      readonly region: string
      readonly endpoint?: URL
    }

export interface Config {
  readonly clusterName: string
  readonly logLevel: LogLevel
  readonly store: StoreConfig
  /** Where the locally served auth service listens (the CLI's `start`). */
  readonly listen: { readonly host: string; readonly port: number }
  /** IAM join settings. */
  readonly iam: { readonly extraStsHosts: readonly string[] }
}

const STORE_KINDS = ['embedded', 'memory', 'dynamodb'] as const
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
/** DNS-like: the cluster name ends up in certificates and known_hosts lines. */
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/
/** DynamoDB's own rule for table names. */
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/**
 * Parses and validates the configuration.
 * @throws InvalidConfigError (`ERR_INVALID_CONFIG`) naming the first bad variable.
 * @example
 * const config = loadConfig({ CREDBROKER_STORE: 'memory' })
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  return deepFreeze({
    clusterName: matching(env, 'CREDBROKER_CLUSTER_NAME', CLUSTER_NAME, 'a DNS name', 'credbroker.local'),
    logLevel: oneOf(env, 'CREDBROKER_LOG_LEVEL', LOG_LEVELS, 'info'),
    store: storeConfig(env, cwd),
    listen: listenConfig(env),
    iam: { extraStsHosts: hostList(env, 'CREDBROKER_IAM_EXTRA_STS_HOSTS') },
  })
}

const HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/

/** A comma-separated list of lower-case DNS names. */
function hostList(env: Env, name: string): string[] {
  const value = optionalString(env, name)
  if (value === undefined) return []
  const hosts = value.split(',').map((h) => h.trim())
  const bad = hosts.find((h) => !HOST.test(h))
  if (bad !== undefined) throw new InvalidConfigError(name, `"${bad}" is not a lower-case DNS name`)
  return hosts
}

const LISTEN = /^(\d{1,3}(\.\d{1,3}){3}|localhost|\[[0-9a-f:]+\]):(\d{1,5})$/

function listenConfig(env: Env): Config['listen'] {
  const value = matching(
    env,
    'CREDBROKER_LISTEN',
    LISTEN,
    'host:port such as 127.0.0.1:3025',
    '127.0.0.1:3025',
  )
  const colon = value.lastIndexOf(':')
  const port = Number(value.slice(colon + 1))
  if (port < 1 || port > 65535)
    throw new InvalidConfigError('CREDBROKER_LISTEN', `port must be 1-65535 (got ${port})`)
  return { host: value.slice(0, colon), port }
}

function storeConfig(env: Env, cwd: string): StoreConfig {
  const kind = oneOf(env, 'CREDBROKER_STORE', STORE_KINDS, 'embedded')
  switch (kind) {
    case 'memory':
      return { kind }
    case 'embedded':
      return { kind, stateDir: resolve(cwd, optionalString(env, 'CREDBROKER_STATE_DIR') ?? '.credbroker') }
    case 'dynamodb': {
      const why = 'when CREDBROKER_STORE is dynamodb'
      const tableName = requiredString(env, 'CREDBROKER_DYNAMODB_TABLE', why)
      const region = requiredString(env, 'AWS_REGION', why)
      const endpoint = optionalUrl(env, 'CREDBROKER_DYNAMODB_ENDPOINT')
      // Validate shapes after presence so a missing variable is reported as missing.
      matching(env, 'CREDBROKER_DYNAMODB_TABLE', TABLE_NAME, '3-255 of [a-zA-Z0-9_.-]', tableName)
      matching(env, 'AWS_REGION', REGION, 'an AWS region such as us-east-1', region)
      return endpoint === undefined ? { kind, tableName, region } : { kind, tableName, region, endpoint }
    }
  }
}
