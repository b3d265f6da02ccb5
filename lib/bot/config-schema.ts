/**
 * The zod schema of the bot's configuration file (`version: v1`), field for field as written in
 * YAML (snake_case). `config.ts` turns the parsed value into the typed, frozen {@link BotConfig}
 * and applies the rules that span several fields.
 *
 * Every object is strict: an unknown key is an error naming it (`outputs[0].destination.pth:
 * unknown field "pth" (did you mean "path"?)`), so a misspelt option never silently falls back to
 * its default.
 *
 * The {@link CredentialLifetime} value object lives here too: its defaults are the schema's
 * defaults for `credential_ttl` and `renewal_interval`.
 *
 * {@link parseRawBotConfig} reads the text (YAML or JSON), runs the schema and turns the first zod
 * issue into an {@link InvalidConfigError} naming the field.
 */
import { parseDocument } from 'yaml'
import * as z from 'zod'
import { formatDuration, parseDuration } from '../duration.ts'
import { InvalidConfigError } from '../errors.ts'
import { duration, hostname, list, nameList, requiredList, resourceName, text } from '../resources/fields.ts'
import { formatPath, issueMessage } from '../resources/issues.ts'

/** Largest configuration file, in UTF-8 bytes. */
export const MAX_CONFIG_BYTES = 256 * 1024

/** How a directory destination treats symbolic links (see `lib/adapters/directory/destination.ts`). */
export const SYMLINK_POLICIES = ['secure', 'try-secure', 'insecure'] as const

/** Output types, in the order the documentation lists them. */
export const OUTPUT_TYPES = [
  'identity',
  'database',
  'kubernetes',
  'application',
  'ssh_host',
  'workload-identity-x509',
  'workload-identity-jwt',
] as const

/** Destination types an output may use. */
export const DESTINATION_TYPES = ['directory', 'memory', 'aws_secrets_manager'] as const

/** Host names that may use plain `http`: the request never leaves the machine. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/

/**
 * The auth service URL: `https://…`, or `http://…` for a loopback host only (a join token or a
 * certificate request must never cross a network in clear text). No credentials, query or
 * fragment: the bot appends API paths to it.
 */
const authServer = text(2048).check((ctx) => {
  const problem = authServerProblem(ctx.value)
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value })
})

function authServerProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL such as "https://auth.example.com"'
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must start with https:// or http://'
  if (url.hostname === '') return 'must name a host'
  if (url.username !== '' || url.password !== '') return 'must not carry credentials'
  if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment'
  if (url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
    return 'must use https:// (http:// is only allowed for loopback hosts: localhost, 127.0.0.1, [::1])'
  }
  return undefined
}

/**
 * A filesystem path as written; `config.ts` resolves relative ones against the base directory.
 * `~` is refused rather than silently taken as a directory named `~`.
 */
const path = text(4096).refine((value) => !value.startsWith('~'), {
  message: '"~" is not expanded; write an absolute path or one relative to the working directory',
})

/** AWS's rule for secret names: 1–512 of letters, digits and `/_+=.@-`. */
const secretName = z
  .string()
  .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a secret name: 1 to 512 of letters, digits and "/_+=.@-"')

const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as "us-east-1"')

/** A KMS key id, multi-region key id, alias name, key ARN or alias ARN. */
const kmsKeyId = z
  .string()
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[A-Za-z0-9/_-]{1,250}|arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]{1,64}|alias\/[A-Za-z0-9/_-]{1,250}))$/,
    'must be a KMS key id, alias ("alias/name") or key or alias ARN',
  )

/** An IAM role or user ARN that may read the secret (written into the secret's resource policy). */
const readerArn = z
  .string()
  .regex(
    /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:role|user)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/,
    'must be an IAM role or user ARN such as "arn:aws:iam::123456789012:role/app"',
  )

const directoryDestination = z
  .strictObject({
    type: z.literal('directory'),
    path: path.describe(
      'the directory the files go to; relative paths resolve against the working directory. Each write ' +
        'replaces the whole set atomically (files 0600)',
    ),
    symlinks: z
      .enum(SYMLINK_POLICIES)
      .default('try-secure')
      .describe(
        '`secure`: refuse a path that is, or passes through, a symbolic link; `try-secure`: refuse a path ' +
          'that is a link; `insecure`: follow a linked path',
      ),
  })
  .describe("files in a local directory, with tbot's file names")

const memoryDestination = z
  .strictObject({ type: z.literal('memory') })
  .describe('kept in the process only: tests, and IAM-joined bots that store nothing')

const secretsManagerDestination = z
  .strictObject({
    type: z.literal('aws_secrets_manager'),
    name: secretName.describe(
      "the secret's name; created on the first write and tagged `credbroker:managed=true`. An existing " +
        'secret without that tag is never written',
    ),
    region: awsRegion.optional().describe("the secret's region; default: `AWS_REGION`"),
    kms_key_id: kmsKeyId
      .optional()
      .describe(
        "a customer-managed KMS key to encrypt the secret with; default: the account's `aws/secretsmanager` key",
      ),
    readers: list(readerArn, 32, 'IAM role or user ARNs').describe(
      "IAM role or user ARNs the secret's resource policy allows to read it (`GetSecretValue`, " +
        '`DescribeSecret`); empty: the resource policy is left alone',
    ),
  })
  .describe('one AWS Secrets Manager secret: one JSON document (`credbroker.v1`) per version')

const destination = z.discriminatedUnion('type', [
  directoryDestination,
  memoryDestination,
  secretsManagerDestination,
])

/**
 * The bot's own identity is sensitive: a local directory, memory, or a Secrets Manager secret of
 * its own (for token-joined bots outside Lambda that have no durable disk), never an output's.
 */
const storage = z.discriminatedUnion('type', [
  directoryDestination,
  memoryDestination,
  secretsManagerDestination,
])

/** Fields every output type shares. */
const outputCommon = {
  name: resourceName
    .optional()
    .describe(
      "unique output name (logs, status, reissue); default: the directory's last segment, the secret name " +
        'with `/` as `-`, or `<type>-<index>`',
    ),
  roles: nameList.describe('roles to impersonate; empty: every role the bot may impersonate'),
  credential_ttl: duration
    .optional()
    .describe("this output's credential lifetime; default: the top-level one"),
  renewal_interval: duration
    .optional()
    .describe("this output's renewal interval; default: the top-level one"),
  destination: destination.describe('where the output is written'),
}

const identityOutput = z
  .strictObject({ type: z.literal('identity'), ...outputCommon })
  .describe(
    'user certificates (X.509 and OpenSSH) for the roles, with CA files, `known_hosts` and `ssh_config`',
  )

const databaseOutput = z
  .strictObject({
    type: z.literal('database'),
    ...outputCommon,
    service: resourceName.describe('the `db` resource the certificate is for'),
    database: text(253)
      .optional()
      .describe(
        'database name; needed for `postgres`, `mongodb` and `cockroachdb` servers unless the roles allow exactly one literal name',
      ),
    username: text(253)
      .optional()
      .describe(
        "database user (the certificate's CN); required unless the roles allow exactly one literal user",
      ),
    format: z
      .enum(['tls', 'mongo', 'cockroach'])
      .optional()
      .describe('file layout: `tls` (`tls.crt`, `tls.key`, `tls.cas`; the default), `mongo` or `cockroach`'),
    /** `rsa-2048` for database servers that need RSA client certificates. */
    key_algorithm: z
      .enum(['ecdsa-p256', 'rsa-2048'])
      .default('ecdsa-p256')
      .describe('the client key: `rsa-2048` for servers that need RSA client certificates'),
  })
  .describe('an X.509 client certificate for one database, signed by the database CA')

const kubernetesOutput = z
  .strictObject({
    type: z.literal('kubernetes'),
    ...outputCommon,
    kubernetes_cluster: resourceName.describe('the `kube_cluster` resource the kubeconfig is for'),
    disable_exec_plugin: z
      .boolean()
      .default(false)
      .describe(
        'embed the credentials in `kubeconfig.yaml` instead of calling `credbroker kube credentials`; ' +
          'required for any destination but a directory',
      ),
  })
  .describe('a kubeconfig with an X.509 client certificate for one Kubernetes cluster')

const applicationOutput = z
  .strictObject({
    type: z.literal('application'),
    ...outputCommon,
    app_name: resourceName.describe('the `app` resource the certificate is for'),
    specific_tls_naming: z.boolean().default(false).describe('also write `tls.crt`, `tls.key` and `tls.cas`'),
  })
  .describe('an X.509 client certificate for one application')

const sshHostOutput = z
  .strictObject({
    type: z.literal('ssh_host'),
    ...outputCommon,
    principals: requiredList(hostname, 64, 'host names').describe(
      "host names the certificate is valid for (name hosts under the cluster's domain)",
    ),
  })
  .describe('an OpenSSH host key and certificate, plus the user CA key for `TrustedUserCAKeys`')

/** A SPIFFE ID path (`/svc/web`): the trust domain is the auth service's cluster name. */
const spiffePath = text(2048).regex(
  /^(\/(?!\.{1,2}(\/|$))[A-Za-z0-9._-]+)+$/,
  'must be a SPIFFE ID path such as /svc/web',
)

const workloadX509Output = z
  .strictObject({
    type: z.literal('workload-identity-x509'),
    ...outputCommon,
    path: spiffePath.describe('SPIFFE ID path: the SVID is for `spiffe://<cluster><path>`'),
  })
  .describe('an X.509-SVID (SPIFFE) and its trust bundle')

const workloadJwtOutput = z
  .strictObject({
    type: z.literal('workload-identity-jwt'),
    ...outputCommon,
    path: spiffePath.describe('SPIFFE ID path: the SVID is for `spiffe://<cluster><path>`'),
    audiences: requiredList(text(1024), 16, 'audiences').describe("the JWT's `aud` values"),
  })
  .describe('a JWT-SVID (SPIFFE, ES256) and the JWKS to verify it')

const output = z.discriminatedUnion('type', [
  identityOutput,
  databaseOutput,
  kubernetesOutput,
  applicationOutput,
  sshHostOutput,
  workloadX509Output,
  workloadJwtOutput,
])

/**
 * `token` join: `token` is the secret itself or, when it starts with `/`, `./` or `../`, the path
 * of a file holding it. `iam` join: `token` is the name of the (non-secret) `iam` join token.
 */
const onboarding = z.discriminatedUnion('join_method', [
  z
    .strictObject({
      join_method: z.literal('token'),
      token: text(4096).describe(
        'the one-time join secret, or the path of a file holding it when the value starts with `/`, `./` or `../`',
      ),
    })
    .describe('a one-time secret; the identity is renewable and carries a generation counter'),
  z
    .strictObject({
      join_method: z.literal('iam'),
      token: resourceName.describe('the name of an `iam` join token (not a secret)'),
    })
    .describe(
      'a signed `sts:GetCallerIdentity`; the identity is not renewable, the bot joins again each cycle',
    ),
])

/**
 * `reissue`: the daemon serves the reissue endpoint (`lib/reissue/app.ts`) on `listen`, a
 * loopback `host:port` (`127.0.0.1:3026`, `[::1]:3026`). `token_file`: a 0600 file holding the
 * bearer token callers must present; absent: any local process may call (loopback only).
 */
const reissueListen = text(64).check((ctx) => {
  const match = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\]):(\d{1,5})$/.exec(ctx.value)
  const port = Number(match?.[2])
  if (!match || !(port >= 1 && port <= 65535)) {
    ctx.issues.push({
      code: 'custom',
      message: 'must be a loopback host:port such as "127.0.0.1:3026" (the endpoint is never exposed)',
      input: ctx.value,
    })
  }
})

const reissue = z
  .strictObject({
    listen: reissueListen.describe('loopback `host:port` to serve on, such as `127.0.0.1:3026`'),
    token_file: path
      .optional()
      .describe(
        'a 0600 file holding the bearer token callers must present; absent: any local process may call',
      ),
  })
  .describe('serve the reissue endpoint (`POST /v1/reissue`, `GET /v1/status`) from the daemon')

/** The whole file. `version` is checked before this schema runs, for a clearer message. */
export const rawBotConfigSchema = z.strictObject({
  version: z.literal('v1').describe('the file format version'),
  auth_server: authServer.describe(
    'the auth service URL: `https://…`, or `http://…` for a loopback host only; no credentials, query or fragment',
  ),
  onboarding: onboarding.describe('how the bot joins'),
  storage: storage.describe(
    'where the bot keeps its own identity: sensitive, never shared with another bot process, never an output',
  ),
  credential_ttl: duration
    .optional()
    .describe('how long certificates live (Go-style duration such as `1h`); default `1h`; 24h at most'),
  renewal_interval: duration
    .optional()
    .describe('how often the daemon wakes to renew (Go-style duration); default `20m`'),
  oneshot: z.boolean().default(false).describe('renew everything once and exit (CI jobs)'),
  outputs: list(output, 64, 'outputs').describe('the credentials to write, up to 64'),
  reissue: reissue.optional().describe('serve the reissue endpoint from the daemon; absent: not served'),
})

/** The file as validated, before paths are resolved and cross-field rules applied. */
export type RawBotConfig = z.output<typeof rawBotConfigSchema>
export type RawOutput = RawBotConfig['outputs'][number]
export type RawDestination = RawOutput['destination']

/** tbot's defaults: credentials live 1h and are renewed every 20m. */
export const DEFAULT_CREDENTIAL_TTL_MS = 60 * 60_000
export const DEFAULT_RENEWAL_INTERVAL_MS = 20 * 60_000
/** The longest TTL the auth service grants a renewable identity (Teleport's MaxRenewableCertTTL). */
export const SERVER_MAX_CREDENTIAL_TTL_MS = 24 * 60 * 60_000

/**
 * How long credentials live and how often they are renewed: tbot's `CredentialLifetime`. A value
 * object: {@link lifetimeWarnings} holds its warning-class rules; its hard rules (both values set
 * and greater than zero) are enforced by the schema.
 */
export interface CredentialLifetime {
  readonly ttlMs: number
  readonly renewalIntervalMs: number
}

/**
 * Warning-class problems of a lifetime: a TTL shorter than the renewal interval (except in
 * oneshot mode, where nothing is renewed), and a TTL above what the server grants.
 */
export function lifetimeWarnings(lifetime: CredentialLifetime, oneshot: boolean): string[] {
  const warnings: string[] = []
  const ttl = formatDuration(lifetime.ttlMs)
  if (!oneshot && lifetime.ttlMs < lifetime.renewalIntervalMs) {
    warnings.push(
      `credential_ttl (${ttl}) is shorter than renewal_interval (${formatDuration(lifetime.renewalIntervalMs)}): ` +
        'credentials will expire before they are renewed',
    )
  }
  if (lifetime.ttlMs > SERVER_MAX_CREDENTIAL_TTL_MS) {
    warnings.push(`credential_ttl ${ttl} is above the server maximum of 24h and will likely be reduced`)
  }
  return warnings
}

/** A lifetime from `credential_ttl`/`renewal_interval`, each falling back to `defaults`. */
export function lifetimeOf(
  raw: { credential_ttl?: string | undefined; renewal_interval?: string | undefined },
  defaults: CredentialLifetime | undefined,
): CredentialLifetime {
  return {
    ttlMs: ms(raw.credential_ttl) ?? defaults?.ttlMs ?? DEFAULT_CREDENTIAL_TTL_MS,
    renewalIntervalMs: ms(raw.renewal_interval) ?? defaults?.renewalIntervalMs ?? DEFAULT_RENEWAL_INTERVAL_MS,
  }
}

/** The schema has validated the text already. */
function ms(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text)
}

/**
 * Reads configuration text (or an already-parsed value) and validates it against the schema.
 * `source` names the file in document-level errors.
 * @throws InvalidConfigError naming the first offending field (the first unknown field if there
 *   is one: a misspelt key usually explains every other issue), or `source` for syntax errors.
 */
export function parseRawBotConfig(
  input: { text: string; format?: 'yaml' | 'json' } | { value: unknown },
  source: string,
): RawBotConfig {
  let value: unknown
  if ('text' in input) {
    if (typeof input.text !== 'string') throw new TypeError('configuration text must be a string')
    if (Buffer.byteLength(input.text, 'utf8') > MAX_CONFIG_BYTES) {
      throw new InvalidConfigError(source, `is larger than ${MAX_CONFIG_BYTES / 1024} KiB`)
    }
    value = input.format === 'json' ? parseJson(input.text, source) : parseYaml(input.text, source)
  } else value = input.value
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidConfigError(
      source,
      'expected a mapping with version, auth_server, onboarding, storage, …',
    )
  }
  const version = (value as { version?: unknown }).version
  if (version !== 'v1') {
    const got = version === undefined ? 'is required' : `unsupported version ${JSON.stringify(version)}`
    throw new InvalidConfigError('version', `${got}; supported versions: v1`)
  }
  const result = rawBotConfigSchema.safeParse(value, { error: configIssueMessage })
  if (result.success) return result.data
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0]
  if (issue === undefined) throw new InvalidConfigError(source, 'is invalid')
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path
  throw new InvalidConfigError(formatPath(path) || source, issue.message, { cause: result.error })
}

/** {@link issueMessage}, plus a clear message for an unknown or missing `type`/`join_method`. */
function configIssueMessage(raw: unknown): string {
  const iss = raw as {
    code?: string
    note?: string
    options?: unknown[]
    input?: unknown
    discriminator?: string
  }
  if (iss.code === 'invalid_union' && iss.note === 'No matching discriminator') {
    const allowed = (iss.options ?? []).map((o) => JSON.stringify(o)).join(', ')
    const input = iss.input as Record<string, unknown> | undefined
    const value = typeof input === 'object' && input !== null ? input[iss.discriminator ?? ''] : undefined
    return value === undefined
      ? `is required; expected one of: ${allowed}`
      : `unknown value ${JSON.stringify(value)}; expected one of: ${allowed}`
  }
  return issueMessage(raw)
}

function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true, merge: false })
  const problem = doc.errors[0] ?? doc.warnings[0]
  if (problem) {
    const pos = problem.linePos?.[0]
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : ''
    const detail = (problem.message.split(/ at line \d+, column \d+/)[0] ?? '').split('\n')[0]
    throw new InvalidConfigError(source, `invalid YAML${where}: ${detail}`, { cause: problem })
  }
  try {
    // The alias limit defuses "billion laughs" documents.
    return doc.toJS({ maxAliasCount: 64 })
  } catch (err) {
    throw new InvalidConfigError(source, `invalid YAML: ${(err as Error).message}`, { cause: err })
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new InvalidConfigError(source, `invalid JSON: ${(err as Error).message}`, { cause: err })
  }
}
