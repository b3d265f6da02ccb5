/**
 * The auth service's configuration, parsed once per process (or Lambda cold start) from the
 * environment, validated with errors that name the variable, typed and frozen.
 *
 * The variables it reads, with their meaning and defaults, are {@link SERVICE_ENV} (rendered into
 * docs/CONFIGURATION.md by `npm run docs:config`).
 *
 * Nothing in `lib/` reads `process.env` except {@link loadConfig}'s default argument.
 */
import { resolve } from 'node:path'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import { type AdminIamRule, adminIamRulesFromEnv } from '../join/iam/admin-allow-list.ts'
import type { LogLevel } from '../log.ts'
import {
  type Env,
  type EnvVariable,
  matching,
  oneOf,
  optionalString,
  optionalUrl,
  requiredString,
} from './env.ts'

/** Every variable {@link loadConfig} reads: the auth service's and the admin CLI's settings. */
export const SERVICE_ENV: readonly EnvVariable[] = [
  { name: 'CREDBROKER_STORE', meaning: '`embedded`, `memory` or `dynamodb`', default: '`embedded`' },
  {
    name: 'CREDBROKER_STATE_DIR',
    meaning: 'directory of the embedded state: database, CA keys, admin identity',
    default: '`.credbroker`',
  },
  { name: 'CREDBROKER_DYNAMODB_TABLE', meaning: 'table name (required for `dynamodb`)' },
  {
    name: 'CREDBROKER_DYNAMODB_ENDPOINT',
    meaning: 'DynamoDB endpoint override (a local moto server in tests)',
    default: "AWS's endpoint",
  },
  { name: 'AWS_REGION', meaning: 'region (required for `dynamodb`)' },
  {
    name: 'CREDBROKER_CLUSTER_NAME',
    meaning: "the cluster's name (a DNS name), written into every certificate",
    default: '`credbroker.local`',
  },
  { name: 'CREDBROKER_LOG_LEVEL', meaning: '`debug`, `info`, `warn` or `error`', default: '`info`' },
  {
    name: 'CREDBROKER_LISTEN',
    meaning: '`host:port` the local auth service listens on',
    default: '`127.0.0.1:3025`',
  },
  {
    name: 'CREDBROKER_IAM_EXTRA_STS_HOSTS',
    meaning: "comma-separated STS hosts accepted for IAM joins besides AWS's own (VPC endpoints)",
    default: 'none',
  },
  {
    name: 'CREDBROKER_ADMIN_IAM',
    meaning:
      'JSON list of the IAM principals that may log in as administrators (`credbroker login`): `[{"arn": "<ARN glob>", "roles": ["admin"], "user": "<name>"}]`, `roles` and `user` optional; an IAM role ARN also matches its sessions (docs/ADMIN-AUTH.md)',
    default: 'nobody',
  },
  {
    name: 'CREDBROKER_EVENT_BUS',
    meaning:
      'EventBridge bus (name or ARN) where audit events that may trigger a reissue are published: `lock.deleted`, `role.created|updated|deleted`, `ca.rotation` (the deployed auth function; needs `AWS_REGION`)',
    default: 'none: not published',
  },
  {
    name: 'CREDBROKER_EVENTBRIDGE_ENDPOINT',
    meaning: 'EventBridge endpoint override (moto in tests)',
    default: "AWS's endpoint",
  },
]

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
  /** Where reissue-triggering audit events go (`lib/ports/event-sink.ts`); absent: nowhere. */
  readonly events?: { readonly bus: string; readonly region: string; readonly endpoint?: URL }
  /** IAM join settings, and the administrators' IAM login allow-list. */
  readonly iam: { readonly extraStsHosts: readonly string[]; readonly admins: readonly AdminIamRule[] }
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
    ...eventsConfig(env),
    iam: {
      extraStsHosts: hostList(env, 'CREDBROKER_IAM_EXTRA_STS_HOSTS'),
      admins: adminIamRulesFromEnv(env, 'CREDBROKER_ADMIN_IAM'),
    },
  })
}

/** An EventBridge bus name or ARN. */
const EVENT_BUS = /^(arn:[\w-]+:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/

function eventsConfig(env: Env): { events?: NonNullable<Config['events']> } {
  const bus = optionalString(env, 'CREDBROKER_EVENT_BUS')
  if (bus === undefined) return {}
  matching(env, 'CREDBROKER_EVENT_BUS', EVENT_BUS, 'an EventBridge bus name or ARN', bus)
  const region = requiredString(env, 'AWS_REGION', 'when CREDBROKER_EVENT_BUS is set')
  matching(env, 'AWS_REGION', REGION, 'an AWS region such as us-east-1', region)
  const endpoint = optionalUrl(env, 'CREDBROKER_EVENTBRIDGE_ENDPOINT')
  return { events: { bus, region, ...(endpoint && { endpoint }) } }
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
