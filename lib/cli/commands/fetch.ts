/**
 * `credbroker fetch --secret <id> (--out DIR | --artifact NAME | --json)`: reads the current
 * credential a bot wrote to AWS Secrets Manager and hands it to a tool. Refuses an expired
 * credential (exit 1, `error [ERR_NOT_FOUND]: the credential in secret … expired at …`).
 *
 * - `--out DIR` writes every artifact as `DIR/<name>` with mode 0600 (DIR is created 0700). Each
 *   file is written to a fresh temp file (`O_CREAT|O_EXCL|O_NOFOLLOW`) and renamed into place, so
 *   a reader never sees half a file and a symlink planted at `DIR/<name>` is replaced, never
 *   followed. DIR itself must not be a symlink.
 * - `--artifact NAME` prints one (UTF-8) artifact to stdout.
 * - `--json` prints `{ secret, version_id, issuance_id, written_at, not_after, artifacts, metadata }`
 *   with artifacts encoded as in the stored document (`{ encoding: 'utf8'|'base64', data }`).
 *
 * Environment: the region from `AWS_REGION` / `AWS_DEFAULT_REGION`; credentials from
 * `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` when set, else the SDK's
 * default chain; `CREDBROKER_SECRETS_MANAGER_ENDPOINT` overrides the endpoint (tests, moto).
 */
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import type { SecretsManagerClientConfig } from '../../adapters/secrets-manager/client.ts'
import type { Clock } from '../../clock.ts'
import { type Env, optionalString } from '../../config/env.ts'
import { type Credential, fetchCredential } from '../../consumer/fetch.ts'
import { BadRequestError, InvalidConfigError } from '../../errors.ts'
import { booleanFlag, stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { UsageError } from '../usage-error.ts'

export interface FetchCommandOptions {
  env: Env
  cwd: string
  clock: Clock
  print: (text: string) => void
  secret: string | undefined
  out: string | undefined
  artifact: string | undefined
  json: boolean
}

export async function fetchCommand(options: FetchCommandOptions): Promise<number> {
  const { secret } = options
  if (secret === undefined || secret === '') throw new UsageError('fetch needs --secret <name or ARN>')
  const modes = [options.out !== undefined, options.artifact !== undefined, options.json].filter(Boolean)
  if (modes.length !== 1) {
    throw new UsageError('fetch needs exactly one of --out DIR, --artifact NAME and --json')
  }
  const credential = await fetchCredential({
    secretId: secret,
    clientConfig: clientConfigFromEnv(options.env),
    clock: options.clock,
  })
  if (options.out !== undefined) {
    const dir = resolve(options.cwd, options.out)
    writeArtifacts(dir, credential.artifacts)
    const until =
      credential.notAfter === undefined ? '' : ` (valid until ${credential.notAfter.toISOString()})`
    options.print(`wrote ${credential.artifacts.size} files to ${dir}${until}`)
  } else if (options.artifact !== undefined) {
    const bytes = credential.artifacts.get(options.artifact)
    if (bytes === undefined) {
      throw new BadRequestError(
        `secret "${secret}" has no artifact "${options.artifact}"; it has: ${[...credential.artifacts.keys()].join(', ')}`,
      )
    }
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw new BadRequestError(`artifact "${options.artifact}" is binary; use --out or --json`)
    }
    options.print(text.endsWith('\n') ? text.slice(0, -1) : text) // print adds the newline
  } else {
    options.print(JSON.stringify(toJson(secret, credential), null, 2))
  }
  return 0
}

/** @throws InvalidConfigError when no region is set or the endpoint is not a URL. */
export function clientConfigFromEnv(env: Env): SecretsManagerClientConfig {
  const region = optionalString(env, 'AWS_REGION') ?? optionalString(env, 'AWS_DEFAULT_REGION')
  if (region === undefined)
    throw new InvalidConfigError('AWS_REGION', 'set AWS_REGION (or AWS_DEFAULT_REGION)')
  const endpoint = optionalString(env, 'CREDBROKER_SECRETS_MANAGER_ENDPOINT')
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
    throw new InvalidConfigError('CREDBROKER_SECRETS_MANAGER_ENDPOINT', 'must be an http or https URL')
  }
  const accessKeyId = optionalString(env, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = optionalString(env, 'AWS_SECRET_ACCESS_KEY')
  const sessionToken = optionalString(env, 'AWS_SESSION_TOKEN')
  return {
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(accessKeyId !== undefined &&
      secretAccessKey !== undefined && {
        credentials: {
          accessKeyId,
          secretAccessKey,
          ...(sessionToken === undefined ? {} : { sessionToken }),
        },
      }),
  }
}

/**
 * Writes each artifact as `dir/<name>`, mode 0600, via a temp file and a rename. Artifact names
 * were checked by the document parser (`[A-Za-z0-9._-]`, not starting with "."), so they cannot
 * leave `dir`, and they never collide with the dot-prefixed temp names.
 * @throws BadRequestError when `dir` is a symlink or not a directory.
 */
export function writeArtifacts(dir: string, artifacts: ReadonlyMap<string, Uint8Array>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = lstatSync(dir)
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new BadRequestError(`${dir} is not a directory (symlinks are not followed)`)
  }
  for (const [name, bytes] of artifacts) {
    const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`)
    const fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    )
    try {
      try {
        fchmodSync(fd, 0o600) // whatever the umask
        let written = 0
        while (written < bytes.length) written += writeSync(fd, bytes, written)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(temp, join(dir, name)) // replaces a symlink at the target, never follows it
    } catch (err) {
      rmSync(temp, { force: true })
      throw err
    }
  }
}

function toJson(secret: string, c: Credential) {
  const artifacts: Record<string, { encoding: 'utf8' | 'base64'; data: string }> = {}
  for (const [name, bytes] of c.artifacts) {
    try {
      artifacts[name] = { encoding: 'utf8', data: new TextDecoder('utf-8', { fatal: true }).decode(bytes) }
    } catch {
      artifacts[name] = { encoding: 'base64', data: Buffer.from(bytes).toString('base64') }
    }
  }
  return {
    secret,
    version_id: c.versionId ?? null,
    issuance_id: c.issuanceId ?? null,
    written_at: c.writtenAt.toISOString(),
    not_after: c.notAfter?.toISOString() ?? null,
    artifacts,
    metadata: c.metadata,
  }
}

export function runFetch(inv: Invocation): Promise<number> {
  return fetchCommand({
    env: inv.io.env,
    cwd: inv.io.cwd,
    clock: inv.clock,
    print: inv.io.stdout,
    secret: stringFlag(inv.flags, 'secret'),
    out: stringFlag(inv.flags, 'out'),
    artifact: stringFlag(inv.flags, 'artifact'),
    json: booleanFlag(inv.flags, 'json') === true,
  })
}
