/**
 * A real, throwaway PostgreSQL server for tests: one cluster in a fresh temp dir, listening on
 * 127.0.0.1 only, requiring TLS client certificates (`hostssl … cert`) issued by a CA the test
 * gives it, plus the real `psql` client to try connections against it.
 *
 * Set-up facts this relies on:
 * - Debian package `postgresql` (server binaries under `/usr/lib/postgresql/<major>/bin`, the
 *   client `psql`, and the `postgres` system user). The newest installed major version is used;
 *   without one, {@link startPostgres} fails and names the package: such a test must not pass.
 * - PostgreSQL refuses to run as root. As root (CI) the server runs as the `postgres` user
 *   (see `postgres-host.ts`); the temp dir, data dir and server key are then owned by `postgres`.
 *   The server key is 0600 either way, as PostgreSQL demands.
 * - Only TCP connection path: `hostssl all all 127.0.0.1/32 cert` (client certificate signed by
 *   `ssl_ca_file`, its CN equal to the requested user). Set-up SQL goes as superuser `postgres`
 *   over the unix socket in the temp dir (0700 directory, 0700 socket), the only `local` entry;
 *   nothing weakens the TCP path under test.
 * - Readiness is polled with `pg_isready` on the unix socket (every {@link READY_POLL_MS} ms,
 *   bounded by {@link READY_DEADLINE_MS}); the server's early exit ends the wait at once.
 * - The server logs each connection (`log_connections`) and each refusal to its stderr, kept
 *   for {@link Postgres.log}. A refusal may be logged after the client has already exited (a TLS
 *   alert goes out before the server writes its line), so assertions on it use
 *   {@link Postgres.waitForLog}.
 *
 * @example
 * ```ts
 * const pg = await startPostgres({ serverCertPem, serverKeyPem, clientCaPem })
 * await pg.superuser('CREATE ROLE alice LOGIN')
 * const { ok, output } = await pg.tryConnect({ user: 'alice', dbname: 'postgres', ...files })
 * await pg.stop()
 * ```
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { PeerLog } from './peer-log.ts'
import { freePort, supervise, terminate } from './peer-process.ts'
import { findPostgresBinaries, type PgBinaries, run, type ServerUser, serverUser } from './postgres-host.ts'

const HOST = '127.0.0.1'
const SUPERUSER = 'postgres'
const READY_POLL_MS = 50
const READY_DEADLINE_MS = 30_000
const LOG_WAIT_MS = 5_000
const CONNECT_TIMEOUT_MS = 15_000

export interface PostgresOptions {
  /** PEM certificate the server presents; `verify-full` clients need `127.0.0.1` in its SANs. */
  readonly serverCertPem: string
  /** PEM (PKCS #8 or traditional) private key of that certificate. */
  readonly serverKeyPem: string
  /** PEM CA certificates that client certificates must chain to (`ssl_ca_file`). */
  readonly clientCaPem: string
}

export interface ClientAttempt {
  readonly user: string
  readonly dbname: string
  /** Client certificate, key and the CA that must have signed the server's certificate. */
  readonly sslcert: string
  readonly sslkey: string
  readonly sslrootcert: string
  /** One SQL statement; default `SELECT current_user`. */
  readonly sql?: string
}

export interface ConnectResult {
  /** psql exited 0: TLS, certificate authentication and the statement all succeeded. */
  readonly ok: boolean
  /** stdout then stderr, for assertions on errors and for failure messages. */
  readonly output: string
  /** stdout alone, trimmed: with `-A -t`, a query's bare values (`alice|app`). */
  readonly stdout: string
}

export interface Postgres {
  readonly host: typeof HOST
  readonly port: number
  /** Major version of the server in use, e.g. `15`. */
  readonly version: string
  /** Everything the server has logged so far (its stderr). */
  log(): string
  /**
   * Resolves with the log from offset `from` (default 0) once that part matches `pattern`;
   * rejects with the log after `timeoutMs` (default 5 s). Take `from` as `log().length` before
   * an attempt to look only at what that attempt caused.
   */
  waitForLog(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<string>
  /** Runs one statement as superuser over the unix socket; resolves with its output, throws on error. */
  superuser(sql: string, dbname?: string): Promise<string>
  /** Connects over TCP with `sslmode=verify-full` and the given files, as the real client would. */
  tryConnect(attempt: ClientAttempt): Promise<ConnectResult>
  /** Fast shutdown, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>
}

/** Creates a cluster in a fresh temp dir and starts it on a free port of 127.0.0.1. */
export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const bin = findPostgresBinaries()
  const owner = serverUser()
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-pg-')) // 0700
  try {
    const layout = await createCluster(bin, owner, dir, options)
    // A port picked by freePort() can be taken before the server binds it: retry then.
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(bin, owner, layout, await freePort())
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/.test(String((err as Error).message))) throw err
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

interface Layout {
  readonly dir: string
  readonly data: string
  readonly socketDir: string
}

/** initdb, then the TLS files, postgresql.conf settings and pg_hba.conf. */
async function createCluster(
  bin: PgBinaries,
  owner: ServerUser,
  dir: string,
  options: PostgresOptions,
): Promise<Layout> {
  if (dir.includes("'")) throw new TypeError(`unusable temp dir for postgresql.conf: ${dir}`)
  const layout = { dir, data: join(dir, 'data'), socketDir: join(dir, 'run') }
  mkdirSync(layout.socketDir, { mode: 0o700 })
  const files = {
    cert: writeOwned(owner, join(dir, 'server.crt'), options.serverCertPem),
    // PostgreSQL refuses a key readable by anyone but its owner (or root with 0640).
    key: writeOwned(owner, join(dir, 'server.key'), options.serverKeyPem),
    ca: writeOwned(owner, join(dir, 'client-ca.crt'), options.clientCaPem),
  }
  owner.chown(layout.socketDir)
  owner.chown(dir)

  const initdb = await run(
    ...owner.command(bin.initdb, [
      `--pgdata=${layout.data}`,
      `--username=${SUPERUSER}`,
      '--auth=reject', // replaced below; never left permissive
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]),
    { cwd: dir, env: owner.env },
  )
  if (initdb.code !== 0) {
    throw new Error(
      `initdb failed (${initdb.code}): ${initdb.stderr}${owner.hint(dir)}\n${initdb.stdout}`.trim(),
    )
  }
  // Later settings win: appending overrides initdb's defaults. Writing an existing file keeps
  // its owner (the server user).
  writeFileSync(
    join(layout.data, 'postgresql.conf'),
    [
      `listen_addresses = '${HOST}'`,
      `unix_socket_directories = '${layout.socketDir}'`,
      'unix_socket_permissions = 0700',
      'ssl = on',
      `ssl_cert_file = '${files.cert}'`,
      `ssl_key_file = '${files.key}'`,
      `ssl_ca_file = '${files.ca}'`,
      "ssl_min_protocol_version = 'TLSv1.2'",
      'max_connections = 20',
      'shared_buffers = 16MB',
      // A throwaway cluster: durability only costs time.
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'log_connections = on',
      '',
    ].join('\n'),
    { flag: 'a' },
  )
  writeFileSync(
    join(layout.data, 'pg_hba.conf'),
    [
      '# TYPE  DATABASE USER      ADDRESS       METHOD',
      `local   all      ${SUPERUSER}                trust`,
      'hostssl all      all       127.0.0.1/32  cert',
      '',
    ].join('\n'),
  )
  return layout
}

function writeOwned(owner: ServerUser, path: string, content: string): string {
  writeFileSync(path, content, { mode: 0o600 })
  chmodSync(path, 0o600) // whatever the umask
  owner.chown(path)
  return path
}

async function launch(bin: PgBinaries, owner: ServerUser, layout: Layout, port: number): Promise<Postgres> {
  const [file, args] = owner.command(bin.postgres, ['-D', layout.data, '-p', String(port)])
  const child = spawn(file, args, { cwd: layout.dir, env: owner.env, stdio: ['ignore', 'ignore', 'pipe'] })
  const log = new PeerLog('postgres')
  child.stderr?.on('data', (chunk: Buffer) => log.append(chunk.toString('utf8')))
  const { exited, cleanUp, release } = supervise(child, 'postgres', layout.dir)
  try {
    await waitUntilReady(bin, layout.socketDir, port, exited, () => log.text)
  } catch (err) {
    await terminate(child, exited)
    release() // keep the directory: startPostgres retries in it or removes it
    throw err
  }

  const client = clientEnv(layout.dir)
  let stopped: Promise<void> | undefined
  return {
    host: HOST,
    port,
    version: bin.version,
    log: () => log.text,
    waitForLog: (pattern, opts = {}) => log.waitFor(pattern, opts.from ?? 0, opts.timeoutMs ?? LOG_WAIT_MS),
    async superuser(sql, dbname = 'postgres') {
      const result = await run(
        bin.psql,
        [...PSQL_FLAGS, '-h', layout.socketDir, '-p', String(port), '-U', SUPERUSER, '-d', dbname, '-c', sql],
        { env: client, cwd: layout.dir },
      )
      if (result.code !== 0) throw new Error(`psql as superuser failed (${result.code}): ${result.stderr}`)
      return result.stdout.trim()
    },
    async tryConnect(attempt) {
      const conninfo = Object.entries({
        host: HOST,
        port: String(port),
        user: attempt.user,
        dbname: attempt.dbname,
        sslmode: 'verify-full',
        sslcert: attempt.sslcert,
        sslkey: attempt.sslkey,
        sslrootcert: attempt.sslrootcert,
        gssencmode: 'disable',
        connect_timeout: '5',
      })
        .map(([k, v]) => `${k}=${conninfoValue(v)}`)
        .join(' ')
      const result = await run(
        bin.psql,
        [...PSQL_FLAGS, '-d', conninfo, '-c', attempt.sql ?? 'SELECT current_user'],
        {
          env: client,
          timeoutMs: CONNECT_TIMEOUT_MS,
        },
      )
      return { ok: result.code === 0, output: result.stdout + result.stderr, stdout: result.stdout.trim() }
    },
    stop() {
      // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients to leave);
      // terminate() still escalates to SIGKILL after its deadline.
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
        await terminate(child, exited)
      })().finally(cleanUp)
      return stopped
    },
  }
}

/** No psqlrc, never prompt for a password, stop at the first error, bare unaligned output. */
const PSQL_FLAGS = ['-X', '-w', '-v', 'ON_ERROR_STOP=1', '-A', '-t']

/**
 * The client's environment: none of the caller's PG* variables (PGSSLMODE, PGHOST…), and a HOME
 * (the temp dir) with no ~/.postgresql or ~/.pgpass, so only the files a test names are used.
 */
function clientEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C' }
}

/** A conninfo value in single quotes, with `\` and `'` escaped as libpq reads them. */
function conninfoValue(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&')}'`
}

async function waitUntilReady(
  bin: PgBinaries,
  socketDir: string,
  port: number,
  exited: Promise<string>,
  log: () => string,
): Promise<void> {
  let exitReason: string | undefined
  void exited.then((reason) => {
    exitReason = reason
  })
  const deadline = Date.now() + READY_DEADLINE_MS
  while (Date.now() < deadline) {
    if (exitReason !== undefined) throw new Error(`${exitReason} before it was ready. Log:\n${log()}`)
    const probe = await run(bin.pgIsready, ['-q', '-h', socketDir, '-p', String(port), '-U', SUPERUSER], {
      env: clientEnv(socketDir),
    })
    // 0: accepting connections. (1: starting up, 2: no response yet.)
    if (probe.code === 0) return
    await delay(READY_POLL_MS)
  }
  throw new Error(`postgres on ${HOST}:${port} was not ready within ${READY_DEADLINE_MS} ms. Log:\n${log()}`)
}
