/**
 * The host side of the test PostgreSQL (`postgres.ts`): where the Debian package put the
 * binaries, which user runs the server, and running a program with a bounded time.
 *
 * PostgreSQL refuses to run as root. As root (CI), `initdb` and `postgres` run as the `postgres`
 * system user (created by the Debian package) through `setpriv`, which execs the program in place
 * (unlike `runuser`, which forks and stays the parent), so a signal sent to the spawned child
 * reaches the postmaster itself.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, chownSync, constants, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { type RunResult, runProgram } from './run-program.ts'

const PG_ROOT = '/usr/lib/postgresql'
const TOOL_TIMEOUT_MS = 60_000

export interface PgBinaries {
  readonly version: string
  readonly initdb: string
  readonly postgres: string
  readonly psql: string
  readonly pgIsready: string
}

/**
 * The newest `/usr/lib/postgresql/<major>/bin` holding every program used here.
 * @throws Error naming the Debian package when there is none.
 */
export function findPostgresBinaries(): PgBinaries {
  let versions: string[] = []
  try {
    versions = readdirSync(PG_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v))
  } catch {
    // no PostgreSQL at all
  }
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = join(PG_ROOT, version, 'bin')
    const tools = {
      version,
      initdb: join(bin, 'initdb'),
      postgres: join(bin, 'postgres'),
      psql: join(bin, 'psql'),
      pgIsready: join(bin, 'pg_isready'),
    }
    if ([tools.initdb, tools.postgres, tools.psql, tools.pgIsready].every(isExecutable)) return tools
  }
  throw new Error(
    `PostgreSQL was not found: no ${PG_ROOT}/<version>/bin with initdb, postgres, psql and pg_isready. ` +
      'Install it with: apt-get install -y postgresql',
  )
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Who runs initdb and postgres: this process, or (as root) the `postgres` system user. */
export interface ServerUser {
  /** The program and arguments that run `file` as the server user. */
  command(file: string, args: readonly string[]): [string, string[]]
  /** Gives `path` to the server user (nothing to do when that is this process). */
  chown(path: string): void
  /** The server's environment: nothing of the caller's but PATH. */
  readonly env: NodeJS.ProcessEnv
  /** Extra words for an initdb error. */
  hint(dir: string): string
}

export function serverUser(): ServerUser {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', TZ: 'UTC' }
  if (process.getuid?.() !== 0) {
    return { command: (file, args) => [file, [...args]], chown: () => {}, env, hint: () => '' }
  }
  const id = (flag: '-u' | '-g') => {
    try {
      return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    } catch {
      throw new Error(
        'running as root, but there is no `postgres` user to run PostgreSQL as (it refuses root). ' +
          'Install the server with: apt-get install -y postgresql',
      )
    }
  }
  const [uid, gid] = [id('-u'), id('-g')]
  return {
    // setpriv execs in place: the spawned child *is* postgres, so our signals reach it.
    command: (file, args) => [
      'setpriv',
      ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', file, ...args],
    ],
    chown: (path) => chownSync(path, uid, gid),
    env: { ...env, HOME: '/var/lib/postgresql', USER: 'postgres' },
    hint: (dir) => ` (as root, PostgreSQL runs as user postgres, who must be able to reach ${dir})`,
  }
}

/** Runs a program without a shell (see run-program.ts), by default within {@link TOOL_TIMEOUT_MS}. */
export function run(
  file: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  return runProgram(file, args, { ...opts, timeoutMs: opts.timeoutMs ?? TOOL_TIMEOUT_MS })
}

export type { RunResult }
