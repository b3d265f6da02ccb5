/**
 * Where admin commands act. Precedence, first match wins:
 *   1. flags: `--auth-server URL`, `--identity DIR`
 *   2. environment: `CREDBROKER_AUTH_SERVER`, `CREDBROKER_IDENTITY`
 *   3. files: the `auth_server` file of the identity directory (written by `start`, `auth start`
 *      and `login`); with an auth server but no identity named, `~/.credbroker/identity` (where
 *      `login` writes by default) when it holds one
 * With an auth server and an identity: the remote admin API, signed with the identity's key.
 * With neither: the configured state store (`CREDBROKER_STORE`, `CREDBROKER_STATE_DIR`).
 */
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { withContext } from '../context.ts'
import { identityAuthServer, loadAdminIdentity } from '../remote/admin-identity.ts'
import { remoteBackend } from '../remote/remote-backend.ts'
import { UsageError } from '../usage-error.ts'
import type { AdminBackend } from './backend.ts'
import { localBackend } from './local-backend.ts'

export interface RemoteTarget {
  readonly authServer: string
  readonly identityDir: string
}

/**
 * The remote target from flags, environment and files, or undefined for the local state.
 * @throws UsageError when only one half is given, or the URL is not http(s).
 */
export function remoteTarget(inv: Pick<Invocation, 'flags' | 'io'>): RemoteTarget | undefined {
  const env = inv.io.env
  const named = stringFlag(inv.flags, 'identity') ?? nonEmpty(env.CREDBROKER_IDENTITY)
  const authServer =
    stringFlag(inv.flags, 'auth-server') ??
    nonEmpty(env.CREDBROKER_AUTH_SERVER) ??
    (named === undefined ? undefined : identityAuthServer(resolve(inv.io.cwd, named)))
  const loginDir = join(nonEmpty(env.HOME) ?? homedir(), '.credbroker', 'identity')
  const identityDir =
    named !== undefined
      ? resolve(inv.io.cwd, named)
      : authServer !== undefined && existsSync(join(loginDir, 'key'))
        ? loginDir
        : undefined
  if (authServer === undefined && identityDir === undefined) return undefined
  if (identityDir === undefined)
    throw new UsageError(
      '--auth-server needs --identity DIR (an admin identity: key, tlscert); credbroker login writes one',
    )
  if (authServer === undefined)
    throw new UsageError(`--identity needs --auth-server URL (${identityDir} has no auth_server file)`)
  if (!/^https?:\/\/[^/\s]+\/?$/.test(authServer))
    throw new UsageError(`--auth-server: "${authServer}" is not a URL such as https://auth.example.com`)
  return { authServer: authServer.replace(/\/+$/, ''), identityDir }
}

/** Runs `body` with the backend the flags and environment select; closes it afterwards. */
export async function withAdmin<T>(inv: Invocation, body: (admin: AdminBackend) => Promise<T>): Promise<T> {
  const target = remoteTarget(inv)
  if (target !== undefined) {
    const identity = loadAdminIdentity(target.identityDir, inv.clock)
    return body(remoteBackend({ baseUrl: target.authServer, identity, clock: inv.clock }))
  }
  return withContext({ ...inv.io, clock: inv.clock }, (ctx) => body(localBackend(ctx)))
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed === '' ? undefined : trimmed
}
