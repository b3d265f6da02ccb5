/**
 * The bot's configuration file (our `version: v1`, in the spirit of tbot's v2): YAML or JSON in,
 * a typed, deeply frozen {@link BotConfig} plus warnings out.
 *
 * Problems come in two classes, as in tbot's `CredentialLifetime.Validate`:
 * - **hard errors** throw an {@link InvalidConfigError} naming the field (`outputs[1].name`): the
 *   bot cannot run this configuration safely (unknown fields, duplicate outputs, a kubernetes
 *   output in exec-plugin mode on a destination that is not a directory, …);
 * - **warnings** are returned as sentences for the caller to log: the configuration runs, but
 *   probably not as intended (credentials that expire before they are renewed or get fewer
 *   than two renewal chances, a TTL the server will cut down).
 *
 * Relative paths (storage, destinations, the token file) resolve against `options.baseDir`; the
 * CLI passes the working directory, as tbot does. Nothing here touches the filesystem: the token
 * file is read when the bot joins.
 *
 * @example
 * const { config, warnings } = parseBotConfig(await readFile('bot.yaml', 'utf8'), { baseDir: process.cwd() })
 * for (const w of warnings) log.warn(w)
 */
import { isAbsolute, relative, resolve } from 'node:path'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import { isResourceName } from '../resources/fields.ts'
import {
  type CredentialLifetime,
  lifetimeOf,
  lifetimeWarnings,
  parseRawBotConfig,
  type RawBotConfig,
  type RawDestination,
  type RawOutput,
  type SYMLINK_POLICIES,
} from './config-schema.ts'
import { scheduleWarning } from './schedule-policy.ts'

export {
  type CredentialLifetime,
  DEFAULT_CREDENTIAL_TTL_MS,
  DEFAULT_RENEWAL_INTERVAL_MS,
  lifetimeWarnings,
  MAX_CONFIG_BYTES,
  SERVER_MAX_CREDENTIAL_TTL_MS,
} from './config-schema.ts'

export type SymlinkPolicy = (typeof SYMLINK_POLICIES)[number]

export type DestinationConfig =
  | { readonly type: 'directory'; readonly path: string; readonly symlinks: SymlinkPolicy }
  | { readonly type: 'memory' }
  | {
      readonly type: 'aws_secrets_manager'
      readonly name: string
      readonly region?: string
      readonly kmsKeyId?: string
      readonly readers: readonly string[]
    }

/** Where the bot keeps its own (sensitive, renewable) identity. */
export type StorageConfig = DestinationConfig

/** The join secret: inline, or the absolute path of a file holding it. Never log `value`. */
export type TokenSource =
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'file'; readonly path: string }

export type OnboardingConfig =
  | { readonly joinMethod: 'token'; readonly token: TokenSource }
  | { readonly joinMethod: 'iam'; readonly tokenName: string }

interface OutputCommon {
  /** Unique across outputs: given, or derived from the destination. */
  readonly name: string
  /** Roles to impersonate; empty means every role the bot may impersonate. */
  readonly roles: readonly string[]
  /** The effective lifetime: the output's overrides over the top-level values. */
  readonly lifetime: CredentialLifetime
  readonly destination: DestinationConfig
}

export type OutputConfig =
  | (OutputCommon & { readonly type: 'identity' })
  | (OutputCommon & {
      readonly type: 'database'
      readonly service: string
      readonly database?: string
      readonly username?: string
      readonly format?: 'tls' | 'mongo' | 'cockroach'
      readonly keyAlgorithm: 'ecdsa-p256' | 'rsa-2048'
    })
  | (OutputCommon & {
      readonly type: 'kubernetes'
      readonly kubernetesCluster: string
      readonly disableExecPlugin: boolean
    })
  | (OutputCommon & {
      readonly type: 'application'
      readonly appName: string
      readonly specificTlsNaming: boolean
    })
  | (OutputCommon & { readonly type: 'ssh_host'; readonly principals: readonly string[] })
  | (OutputCommon & { readonly type: 'workload-identity-x509'; readonly path: string })
  | (OutputCommon & {
      readonly type: 'workload-identity-jwt'
      readonly path: string
      readonly audiences: readonly string[]
    })

export interface BotConfig {
  readonly version: 'v1'
  /** The auth service's base URL without a trailing `/` (`http://127.0.0.1:3025`). */
  readonly authServer: string
  readonly onboarding: OnboardingConfig
  readonly storage: StorageConfig
  /** The bot's own lifetime (and every output's default). */
  readonly lifetime: CredentialLifetime
  readonly oneshot: boolean
  readonly outputs: readonly OutputConfig[]
  /** Serve the reissue endpoint from the daemon (`reissue:` in the file); absent: not served. */
  readonly reissue?: ReissueListenConfig
}

/** Where the daemon serves the reissue endpoint. */
export interface ReissueListenConfig {
  /** A loopback address (`127.0.0.1`, `::1`, `localhost`). */
  readonly host: string
  readonly port: number
  /** Absolute path of the bearer token file (must be 0600, checked when serving). */
  readonly tokenFile?: string
}

export interface ParseBotConfigOptions {
  /** Absolute directory that relative paths resolve against (the CLI passes the working directory). */
  readonly baseDir: string
  /** `json` parses strict JSON; `yaml` (the default) also reads JSON. */
  readonly format?: 'yaml' | 'json'
  /** Names the file in document-level errors (`bot.yaml: invalid YAML at line 3, …`). */
  readonly source?: string
}

export interface ParsedBotConfig {
  readonly config: BotConfig
  /** Warning-class problems, one sentence each, for the caller to log. */
  readonly warnings: string[]
}

/**
 * Parses and validates a configuration file.
 * @throws InvalidConfigError (`ERR_INVALID_CONFIG`) naming the first offending field, or the
 *   source (`options.source`, default `config`) for syntax errors and oversized files.
 * @throws TypeError when `options.baseDir` is not absolute (a programmer error).
 */
export function parseBotConfig(text: string, options: ParseBotConfigOptions): ParsedBotConfig {
  return build({ text, ...(options.format && { format: options.format }) }, options)
}

/** Validates an already-parsed value (a JSON body, a YAML document); see {@link parseBotConfig}. */
export function validateBotConfig(value: unknown, options: ParseBotConfigOptions): ParsedBotConfig {
  return build({ value }, options)
}

function build(input: Parameters<typeof parseRawBotConfig>[0], options: ParseBotConfigOptions) {
  if (!isAbsolute(options.baseDir)) throw new TypeError(`baseDir must be absolute, got ${options.baseDir}`)
  const raw = parseRawBotConfig(input, options.source ?? 'config')
  const at = (p: string) => resolve(options.baseDir, p)
  const lifetime = lifetimeOf(raw, undefined)
  const config: BotConfig = {
    version: 'v1',
    authServer: new URL(raw.auth_server).href.replace(/\/$/, ''),
    onboarding:
      raw.onboarding.join_method === 'iam'
        ? { joinMethod: 'iam', tokenName: raw.onboarding.token }
        : { joinMethod: 'token', token: tokenSource(raw.onboarding.token, at) },
    storage: buildDestination(raw.storage, at) as StorageConfig,
    lifetime,
    oneshot: raw.oneshot,
    outputs: raw.outputs.map((o, i) => buildOutput(o, i, lifetime, at)),
    ...(raw.reissue && { reissue: reissueOf(raw.reissue, at) }),
  }
  checkOutputs(config)
  return { config: deepFreeze(config), warnings: collectWarnings(config, raw.outputs) }
}

function buildOutput(
  raw: RawOutput,
  index: number,
  defaults: CredentialLifetime,
  at: (p: string) => string,
): OutputConfig {
  const destination = buildDestination(raw.destination, at)
  const common = {
    name: raw.name ?? derivedName(raw, destination, index),
    roles: uniqueRoles(raw.roles, index),
    lifetime: lifetimeOf(raw, defaults),
    destination,
  }
  switch (raw.type) {
    case 'identity':
      return { type: raw.type, ...common }
    case 'database':
      return {
        type: raw.type,
        ...common,
        service: raw.service,
        ...(raw.database !== undefined && { database: raw.database }),
        ...(raw.username !== undefined && { username: raw.username }),
        ...(raw.format !== undefined && { format: raw.format }),
        keyAlgorithm: raw.key_algorithm,
      }
    case 'kubernetes':
      return {
        type: raw.type,
        ...common,
        kubernetesCluster: raw.kubernetes_cluster,
        disableExecPlugin: raw.disable_exec_plugin,
      }
    case 'application':
      return { type: raw.type, ...common, appName: raw.app_name, specificTlsNaming: raw.specific_tls_naming }
    case 'ssh_host':
      return { type: raw.type, ...common, principals: raw.principals }
    case 'workload-identity-x509':
      return { type: raw.type, ...common, path: raw.path }
    case 'workload-identity-jwt':
      return { type: raw.type, ...common, path: raw.path, audiences: raw.audiences }
  }
}

function buildDestination(raw: RawDestination, at: (p: string) => string): DestinationConfig {
  switch (raw.type) {
    case 'directory':
      return { type: raw.type, path: at(raw.path), symlinks: raw.symlinks }
    case 'memory':
      return { type: raw.type }
    case 'aws_secrets_manager':
      return {
        type: raw.type,
        name: raw.name,
        ...(raw.region !== undefined && { region: raw.region }),
        ...(raw.kms_key_id !== undefined && { kmsKeyId: raw.kms_key_id }),
        readers: raw.readers,
      }
  }
}

/** `/…`, `./…` and `../…` name a file holding the token; anything else is the token itself. */
function reissueOf(
  raw: NonNullable<RawBotConfig['reissue']>,
  at: (p: string) => string,
): ReissueListenConfig {
  const split = raw.listen.lastIndexOf(':')
  const host = raw.listen.slice(0, split).replace(/^\[(.*)\]$/, '$1')
  return {
    host,
    port: Number(raw.listen.slice(split + 1)),
    ...(raw.token_file !== undefined && { tokenFile: at(raw.token_file) }),
  }
}

function tokenSource(token: string, at: (p: string) => string): TokenSource {
  return /^(?:\/|\.\.?\/)/.test(token) ? { kind: 'file', path: at(token) } : { kind: 'value', value: token }
}

/**
 * The default name: a directory's last path segment, a secret's name with `/` as `-`, or
 * `<type>-<index>` for memory. Collisions are reported by {@link checkDestinations}.
 */
function derivedName(raw: RawOutput, destination: DestinationConfig, index: number): string {
  const name =
    destination.type === 'directory'
      ? (destination.path.split('/').pop() ?? '')
      : destination.type === 'aws_secrets_manager'
        ? destination.name.replaceAll('/', '-')
        : `${raw.type}-${index}`
  if (!isResourceName(name)) {
    throw new InvalidConfigError(
      `outputs[${index}].name`,
      `is required: no valid name can be derived from the destination (got ${JSON.stringify(name)})`,
    )
  }
  return name
}

function uniqueRoles(roles: readonly string[], index: number): readonly string[] {
  roles.forEach((role, i) => {
    if (roles.indexOf(role) !== i) {
      throw new InvalidConfigError(`outputs[${index}].roles[${i}]`, `role "${role}" is listed twice`)
    }
  })
  return roles
}

function collectWarnings(config: BotConfig, raw: readonly RawOutput[]): string[] {
  const warnings = lifetimeWarnings(config.lifetime, config.oneshot)
  config.outputs.forEach((output, i) => {
    // An output that inherits both values would only repeat the top-level warnings.
    if (raw[i]?.credential_ttl === undefined && raw[i]?.renewal_interval === undefined) return
    for (const w of lifetimeWarnings(output.lifetime, config.oneshot)) warnings.push(`outputs[${i}]: ${w}`)
  })
  if (!config.oneshot) warnings.push(...twoChanceWarnings(config))
  if (config.outputs.length === 0) {
    warnings.push('no outputs are configured: the bot will only maintain its own identity')
  }
  if (config.onboarding.joinMethod === 'token' && config.storage.type === 'memory' && !config.oneshot) {
    warnings.push(
      'storage is memory with join_method token: a restarted bot cannot rejoin, because join tokens are single-use',
    )
  }
  return warnings
}

/**
 * Credentials the daemon cannot renew twice before they expire (`schedule-policy.ts`): the bot
 * identity and each output, against the daemon's interval (the top-level `renewal_interval`: the
 * daemon wakes on it for every output). A TTL below its own renewal interval already has the
 * stronger "expire before they are renewed" warning, so it gets no second one.
 */
function twoChanceWarnings(config: BotConfig): string[] {
  const interval = config.lifetime.renewalIntervalMs
  const subjects = [
    { subject: 'the bot identity', lifetime: config.lifetime },
    ...config.outputs.map((o, i) => ({ subject: `outputs[${i}] (${o.name})`, lifetime: o.lifetime })),
  ]
  return subjects.flatMap(({ subject, lifetime }) => {
    if (lifetime.ttlMs < lifetime.renewalIntervalMs) return []
    const warning = scheduleWarning(subject, lifetime.ttlMs, interval)
    return warning === undefined ? [] : [warning]
  })
}

/**
 * Hard rules across outputs, reported on the later output of a conflicting pair:
 * - a kubernetes output in exec-plugin mode needs a directory (the plugin reads the files);
 * - names are unique;
 * - no two outputs share a destination, and directories do not nest: sharing one output
 *   directory (the thing operators copy to other machines) would share the other;
 * - no output directory overlaps the storage directory, and no output secret is the storage secret:
 *   storage holds the renewable identity.
 */
function checkOutputs(config: BotConfig): void {
  config.outputs.forEach((output, i) => {
    const dest = output.destination
    if (output.type === 'kubernetes' && !output.disableExecPlugin && dest.type !== 'directory') {
      // The wording of tbot's message, which the troubleshooting guide quotes.
      const what = dest.type === 'aws_secrets_manager' ? dest.name : output.name
      throw new InvalidConfigError(
        `outputs[${i}].destination`,
        `Destination ${dest.type}: ${what} must be a directory in exec plugin mode ` +
          '(set disable_exec_plugin: true to write a kubeconfig with the credentials embedded)',
      )
    }
    for (const [j, other] of config.outputs.slice(0, i).entries()) {
      if (other.name === output.name) {
        throw new InvalidConfigError(
          `outputs[${i}].name`,
          `"${output.name}" is already the name of outputs[${j}]; give each output a distinct name`,
        )
      }
      const clash = destinationClash(dest, other.destination)
      if (clash)
        throw new InvalidConfigError(`outputs[${i}].destination`, `${clash} outputs[${j}]'s destination`)
    }
    const storage = config.storage
    if (
      dest.type === 'aws_secrets_manager' &&
      storage.type === 'aws_secrets_manager' &&
      destinationClash(dest, storage) !== undefined
    ) {
      throw new InvalidConfigError(
        `outputs[${i}].destination.name`,
        `secret ${dest.name} is also the bot's storage; the bot's own identity must stay apart from outputs`,
      )
    }
    if (dest.type === 'directory' && storage.type === 'directory' && overlaps(dest.path, storage.path)) {
      throw new InvalidConfigError(
        `outputs[${i}].destination.path`,
        `${dest.path} overlaps the storage directory ${storage.path}; the bot's own identity must stay apart from outputs`,
      )
    }
  })
}

function destinationClash(a: DestinationConfig, b: DestinationConfig): string | undefined {
  if (a.type === 'directory' && b.type === 'directory') {
    if (a.path === b.path) return `directory ${a.path} is also`
    if (overlaps(a.path, b.path)) return `directory ${a.path} nests with`
  }
  if (a.type === 'aws_secrets_manager' && b.type === 'aws_secrets_manager') {
    if (a.name === b.name && a.region === b.region) return `secret ${a.name} is also`
  }
  return undefined
}

/** True when one absolute path is the other or lies inside it. */
function overlaps(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child)
    return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel))
  }
  return inside(a, b) || inside(b, a)
}
