/**
 * `credbroker login [--auth-server URL] [--identity DIR] [--ttl 1h] [--format text|json|yaml]`:
 * logs in to an auth service as an administrator with this machine's AWS identity (no stored
 * secret; docs/ADMIN-AUTH.md) and writes the administrator identity where the admin commands
 * read it.
 *
 * - Auth service: `--auth-server`, else `CREDBROKER_AUTH_SERVER`; `https://`, or `http://` on a
 *   loopback host only (127.0.0.0/8, ::1, localhost): the signed request names the server it is
 *   for, and over plain http anyone on the path could pose as that server.
 * - AWS identity: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` when set,
 *   else the SDK's default chain (profile, SSO, web identity, ECS, IMDS); the request is signed
 *   for `sts.<AWS_REGION or AWS_DEFAULT_REGION, else us-east-1>.amazonaws.com` and sent to the
 *   auth service, never to AWS, so the secret key stays here.
 * - Identity directory: `--identity`, else `CREDBROKER_IDENTITY`, else `~/.credbroker/identity`;
 *   the files of `<state>/admin/` — `key`, `tlscert`, `credbroker-user-ca.crt` — plus
 *   `auth_server`, written as one set (lib/adapters/directory: a new 0700 version directory of
 *   0600 files swapped in with one rename), so a reader never sees a key next to another
 *   login's certificate.
 * - `--ttl`: a duration (default 1h); the server clamps it to 12h.
 *
 * Prints who it logged in as and until when. Exit 0, or an error (exit 1) such as
 * `ERR_IAM_NOT_ALLOWED` when the AWS identity is not on the auth service's list.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DirectoryDestination } from '../../adapters/directory/destination.ts'
import { loginWithIam } from '../../auth/admin-login-client.ts'
import type { AwsCredentialsProvider } from '../../bot/iam-signer.ts'
import { stsRegion } from '../../bot/iam-signer.ts'
import { generateClientKey } from '../../bot/keys.ts'
import { systemClock } from '../../clock.ts'
import { type Env, optionalString } from '../../config/env.ts'
import { DurationError, formatDuration, parseDuration } from '../../duration.ts'
import { InvalidConfigError } from '../../errors.ts'
import type { CliIo } from '../context.ts'
import { chooseFormat, renderData } from '../output.ts'
import { UsageError } from '../usage-error.ts'

export interface LoginOptions {
  authServer?: string
  identityDir?: string
  ttl?: string
  format?: string
}

/** The user CA file, named as in `<state>/admin/` and every identity output. */
export const USER_CA_FILE = 'credbroker-user-ca.crt'
const DEFAULT_TTL = '1h'
/** The longest TTL the wire format takes; the server clamps further (12 h). */
const MAX_WIRE_TTL_S = 7 * 24 * 3600

export async function loginCommand(io: CliIo, options: LoginOptions): Promise<number> {
  const format = chooseFormat(options.format, io.env, 'text')
  const authServer = authServerOf(options.authServer ?? optionalString(io.env, 'CREDBROKER_AUTH_SERVER'))
  const dir = resolve(
    io.cwd,
    options.identityDir ?? optionalString(io.env, 'CREDBROKER_IDENTITY') ?? defaultDir(io.env),
  )
  const ttlSeconds = ttlSecondsOf(options.ttl ?? DEFAULT_TTL)

  const key = generateClientKey()
  const { issued, userCaPems } = await loginWithIam({
    baseUrl: authServer,
    publicKeyPem: key.publicPem,
    ttlSeconds,
    credentials: await awsCredentials(io.env),
    region: stsRegion(optionalString(io.env, 'AWS_REGION'), optionalString(io.env, 'AWS_DEFAULT_REGION')),
  })
  await new DirectoryDestination({ path: dir, clock: systemClock }).write(
    new Map([
      ['key', key.privatePem],
      ['tlscert', issued.tls_cert],
      [USER_CA_FILE, userCaPems.join('')],
      ['auth_server', `${authServer}\n`],
    ]),
  )

  const data = {
    user: issued.identity.user,
    roles: issued.identity.roles,
    aws_account: issued.aws_account,
    aws_arn: issued.aws_arn,
    not_after: issued.not_after,
    auth_server: authServer,
    identity: dir,
  }
  const lifetime = Date.parse(issued.not_after) - systemClock.now().getTime()
  io.stdout(
    renderData(format, data, () =>
      [
        `logged in to ${authServer} as ${data.user} (${data.aws_arn}), roles ${data.roles.join(', ')}`,
        `valid until ${data.not_after}${lifetime > 0 ? ` (${formatDuration(Math.round(lifetime / 1000) * 1000)})` : ''}`,
        `identity written to ${dir}`,
      ].join('\n'),
    ),
  )
  return 0
}

function authServerOf(value: string | undefined): string {
  if (value === undefined || value === '')
    throw new UsageError('login needs --auth-server URL (or CREDBROKER_AUTH_SERVER)')
  if (!/^https?:\/\/[^/\s]+\/?$/.test(value))
    throw new UsageError(`--auth-server: "${value}" is not a URL such as https://auth.example.com`)
  const url = new URL(value)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new UsageError(
      `--auth-server: "${value}" uses plain http, where anyone on the path could pose as the auth ` +
        `server; use https://${url.host} (plain http is for 127.0.0.1, ::1 and localhost only)`,
    )
  return value.replace(/\/+$/, '')
}

/** `localhost`, `[::1]` or 127.0.0.0/8, as the URL parser writes them (`127.1` is `127.0.0.1`). */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}

function defaultDir(env: Env): string {
  return join(optionalString(env, 'HOME') ?? homedir(), '.credbroker', 'identity')
}

function ttlSecondsOf(text: string): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`--ttl: ${err.message}`)
    throw err
  }
  if (ms < 60_000) throw new UsageError(`--ttl: at least 1m (got ${text})`)
  return Math.min(Math.floor(ms / 1000), MAX_WIRE_TTL_S)
}

/**
 * Static credentials from the environment given to the command, else the SDK's default chain
 * (loaded only here). A chain that finds nothing is a configuration error naming what to set.
 */
async function awsCredentials(env: Env): Promise<AwsCredentialsProvider> {
  const accessKeyId = optionalString(env, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = optionalString(env, 'AWS_SECRET_ACCESS_KEY')
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = optionalString(env, 'AWS_SESSION_TOKEN')
    return async () => ({ accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) })
  }
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node')
  const chain = defaultProvider()
  return async () => {
    try {
      return await chain()
    } catch (err) {
      throw new InvalidConfigError(
        'AWS credentials',
        'none found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is available',
        { cause: err },
      )
    }
  }
}
