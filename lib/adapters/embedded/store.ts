/**
 * Embedded durable {@link Store} on SQLite (better-sqlite3): the default state backend of the
 * local CLI. One database file on one machine, safe for several processes at once.
 *
 * - Concurrency: WAL journal plus `busy_timeout`, so a second process waits for the write lock
 *   instead of failing. Every conditional write is ONE autocommit statement whose outcome is read
 *   from `changes`; SQLite takes the write lock before the statement reads anything (and retries a
 *   stale WAL snapshot through the busy handler), so two processes cannot interleave a check and a
 *   write. No read-then-write transactions exist here.
 * - Expiry: every statement filters on `expires_ms > now` with the injected clock; a bounded sweep
 *   every {@link SWEEP_EVERY_WRITES} writes only reclaims space.
 * - Files: the directory is created 0700, the database 0600 whatever the umask.
 *
 * @example
 * const store = await EmbeddedStore.open({ path: '.credbroker/state.db' })
 * try {
 *   await store.create('role/admin', JSON.stringify(role))
 * } finally {
 *   await store.close()
 * }
 */
import {
  chmodSync,
  closeSync,
  fchmodSync,
  constants as fs,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  type Stats,
} from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { type Clock, systemClock } from '../../clock.ts'
import {
  AlreadyExistsError,
  InvalidConfigError,
  NotFoundError,
  RevisionMismatchError,
  StoreUnavailableError,
} from '../../errors.ts'
import type {
  DeleteOptions,
  ListOptions,
  ListPage,
  Store,
  StoreItem,
  WriteOptions,
  WriteResult,
} from '../../ports/store.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import {
  checkKey,
  checkPrefix,
  checkValue,
  encodeCursor,
  expiryOf,
  parseListOptions,
} from '../store-contract.ts'
import { translateSqliteError } from './errors.ts'

/** The schema this release reads and writes, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1
/** `PRAGMA application_id` of credbroker state files ("CrBk"), so a foreign database is refused. */
const APPLICATION_ID = 0x4372426b
/**
 * `MIGRATIONS[v]` upgrades a database from schema version `v` to `v + 1`, inside one IMMEDIATE
 * transaction. Append new steps; never edit a released one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE items (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     revision TEXT NOT NULL,
     expires_ms INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX items_expiry ON items (expires_ms) WHERE expires_ms IS NOT NULL;`,
]

/** The opportunistic sweep runs after every this many successful writes of one instance. */
export const SWEEP_EVERY_WRITES = 100
/** At most this many expired rows are deleted per sweep, so a sweep never holds the lock long. */
const SWEEP_BATCH = 500
const DEFAULT_BUSY_TIMEOUT_MS = 5000

export interface EmbeddedStoreOptions {
  /** The database file. Missing parent directories are created with mode 0700. */
  path: string
  clock?: Clock
  random?: Random
  /**
   * How long a statement waits for another process's lock before failing with
   * `ERR_STORE_UNAVAILABLE`. Default 5000 ms.
   */
  busyTimeoutMs?: number
}

interface Row {
  key: string
  value: string
  revision: string
  expires_ms: number | null
}

type Params = Record<string, string | number | null>

const LIVE = '(expires_ms IS NULL OR expires_ms > @now)'

/** Every statement the store runs, prepared once per connection. */
const SQL = {
  get: `SELECT key, value, revision, expires_ms FROM items WHERE key = @key AND ${LIVE}`,
  put: `INSERT INTO items (key, value, revision, expires_ms) VALUES (@key, @value, @revision, @expires)
    ON CONFLICT (key) DO UPDATE
    SET value = excluded.value, revision = excluded.revision, expires_ms = excluded.expires_ms`,
  // Insert, or take over the row only when it has expired: changes = 0 means a live item exists.
  create: `INSERT INTO items (key, value, revision, expires_ms) VALUES (@key, @value, @revision, @expires)
    ON CONFLICT (key) DO UPDATE
    SET value = excluded.value, revision = excluded.revision, expires_ms = excluded.expires_ms
    WHERE items.expires_ms IS NOT NULL AND items.expires_ms <= @now`,
  swap: `UPDATE items SET value = @value, revision = @newRevision, expires_ms = @expires
    WHERE key = @key AND revision = @revision AND ${LIVE}`,
  delete: `DELETE FROM items WHERE key = @key AND ${LIVE}`,
  deleteAt: `DELETE FROM items WHERE key = @key AND revision = @revision AND ${LIVE}`,
  // Range scans on the primary key (BINARY collation = byte order, as the port requires). LIKE
  // would treat `_`/`%` as wildcards and ignore ASCII case.
  listFrom: `SELECT key, value, revision, expires_ms FROM items
    WHERE key >= @lower AND key < @upper AND ${LIVE} ORDER BY key LIMIT @take`,
  listAfter: `SELECT key, value, revision, expires_ms FROM items
    WHERE key > @lower AND key < @upper AND ${LIVE} ORDER BY key LIMIT @take`,
  sweep: `DELETE FROM items WHERE key IN
    (SELECT key FROM items WHERE expires_ms <= @now LIMIT @batch)`,
} as const

type Statements = { [K in keyof typeof SQL]: Database.Statement<[Params], Row> }

export class EmbeddedStore implements Store {
  readonly #db: Database.Database
  readonly #stmts: Statements
  readonly #clock: Clock
  readonly #random: Random
  readonly #busyTimeoutMs: number
  #writes = 0
  #closed = false

  /** Use {@link EmbeddedStore.open}. */
  private constructor(db: Database.Database, clock: Clock, random: Random, busyTimeoutMs: number) {
    this.#db = db
    this.#clock = clock
    this.#random = random
    this.#busyTimeoutMs = busyTimeoutMs
    const entries = Object.entries(SQL).map(([name, sql]) => [name, db.prepare<[Params], Row>(sql)])
    this.#stmts = Object.fromEntries(entries) as Statements
  }

  /**
   * Opens (creating if needed) the database at `options.path`, migrates its schema and sweeps
   * expired rows once.
   * @throws InvalidConfigError (`ERR_INVALID_CONFIG`, field `path`) when the path is a symbolic
   *   link, a directory or another non-regular file, is not a credbroker database, or holds a
   *   schema newer than this release understands.
   * @throws StoreUnavailableError (`ERR_STORE_UNAVAILABLE`) when SQLite cannot open or set it up.
   */
  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const { path, clock = systemClock, random = cryptoRandom } = options
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
    if (typeof path !== 'string' || path.length === 0) {
      throw new InvalidConfigError('path', 'must be a non-empty file path')
    }
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new InvalidConfigError('busyTimeoutMs', 'must be a non-negative integer')
    }
    // resolve() also turns SQLite's special name ':memory:' into an ordinary file name.
    const file = resolve(path)
    const identity = prepareFile(file)
    let db: Database.Database
    try {
      db = new Database(file, { timeout: busyTimeoutMs })
    } catch (err) {
      throw translateSqliteError(err, 'open')
    }
    try {
      assertSameFile(file, identity)
      configure(db)
      migrate(db, file)
      secureSidecars(file)
      const store = new EmbeddedStore(db, clock, random, busyTimeoutMs)
      store.#sweep()
      return store
    } catch (err) {
      db.close()
      throw translateSqliteError(err, 'open')
    }
  }

  async get(key: string): Promise<StoreItem | undefined> {
    this.#assertOpen()
    checkKey(key)
    const row = this.#run('get', (s) => s.get.get({ key, now: this.#now() }))
    return row && toItem(row)
  }

  async create(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    const params = this.#writeParams(key, value, options)
    if (this.#run('create', (s) => s.create.run(params).changes) === 0) {
      throw new AlreadyExistsError(`an item with key "${key}" already exists`)
    }
    return this.#written(params)
  }

  async put(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    const params = this.#writeParams(key, value, options)
    this.#run('put', (s) => s.put.run(params))
    return this.#written(params)
  }

  async compareAndSwap(
    key: string,
    expectedRevision: string,
    value: string,
    options?: WriteOptions,
  ): Promise<WriteResult> {
    const { revision, ...rest } = this.#writeParams(key, value, options)
    const params = { ...rest, revision: expectedRevision, newRevision: revision }
    if (this.#run('compareAndSwap', (s) => s.swap.run(params).changes) === 0) throw revisionMismatch(key)
    return this.#written({ revision })
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.#assertOpen()
    checkKey(key)
    const revision = options?.revision
    const now = this.#now()
    if (revision === undefined) {
      const changes = this.#run('delete', (s) => s.delete.run({ key, now }).changes)
      if (changes === 0) throw new NotFoundError(`no item with key "${key}"`)
    } else {
      const changes = this.#run('delete', (s) => s.deleteAt.run({ key, revision, now }).changes)
      if (changes === 0) throw revisionMismatch(key)
    }
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.#assertOpen()
    checkPrefix(prefix)
    const { limit, after } = parseListOptions(prefix, options)
    // One row more than the page tells whether more follow, so nextCursor is exact.
    const params = {
      lower: after ?? prefix,
      upper: prefixUpperBound(prefix),
      now: this.#now(),
      take: limit + 1,
    }
    const rows = this.#run('list', (s) => (after === undefined ? s.listFrom : s.listAfter).all(params))
    const items = rows.slice(0, limit).map(toItem)
    const last = items.at(-1)
    return rows.length > limit && last ? { items, nextCursor: encodeCursor(last.key) } : { items }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      this.#db.close()
    } catch (err) {
      throw translateSqliteError(err, 'close')
    }
  }

  /** Validates a write and builds its statement parameters, with a fresh revision. */
  #writeParams(key: string, value: string, options: WriteOptions | undefined) {
    this.#assertOpen()
    checkKey(key)
    checkValue(value)
    const expires = expiryOf(options) ?? null
    return { key, value, expires, revision: this.#random.uuid(), now: this.#now() }
  }

  /** Bookkeeping after a successful write; returns the write's result. */
  #written({ revision }: { revision: string }): WriteResult {
    this.#writes++
    if (this.#writes % SWEEP_EVERY_WRITES === 0) this.#sweep()
    return { revision }
  }

  /**
   * Deletes a bounded batch of expired rows. Best effort: the caller's write has already
   * committed and expired rows are invisible anyway, so the sweep does not wait for another
   * process's lock, and a failure (SQLITE_BUSY, say) is ignored until the next sweep.
   */
  #sweep(): void {
    this.#db.pragma('busy_timeout = 0')
    try {
      this.#stmts.sweep.run({ now: this.#now(), batch: SWEEP_BATCH })
    } catch {
      // Opportunistic only; see above.
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`)
    }
  }

  #run<T>(operation: string, fn: (stmts: Statements) => T): T {
    try {
      return fn(this.#stmts)
    } catch (err) {
      throw translateSqliteError(err, operation)
    }
  }

  #now(): number {
    return this.#clock.now().getTime()
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError('EmbeddedStore is closed')
  }
}

/**
 * Per-connection settings. `synchronous = FULL`: in WAL mode, NORMAL skips the fsync of the WAL
 * at each commit, so a power loss may roll back commits that callers already saw succeed. This
 * store holds CA material, generation counters and replay records, where a silently lost write
 * means a reused counter or a replayable token. FULL costs one fsync per commit: about 3,000
 * writes/s instead of about 30,000 on a development VM (ext4), far above what the CLI needs;
 * reads are unaffected.
 */
function configure(db: Database.Database): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal') {
    throw new StoreUnavailableError('the state database cannot use write-ahead logging', {
      details: { journalMode: mode },
    })
  }
  db.pragma('synchronous = FULL')
}

/**
 * The smallest string above every key that starts with `prefix`. Keys and prefixes are printable
 * ASCII (at most 0x7E), so bumping the last character never overflows.
 */
function prefixUpperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

function toItem(row: Row): StoreItem {
  const { key, value, revision, expires_ms } = row
  return expires_ms === null
    ? { key, value, revision }
    : { key, value, revision, expires: new Date(expires_ms) }
}

function revisionMismatch(key: string): RevisionMismatchError {
  return new RevisionMismatchError(`item "${key}" is absent or at another revision`)
}

/**
 * Brings the schema to {@link SCHEMA_VERSION}. The version is re-read under the write lock, since
 * another process may be migrating the same file at the same moment.
 */
function migrate(db: Database.Database, file: string): void {
  if (schemaVersion(db, file) === SCHEMA_VERSION) return
  const upgrade = db.transaction(() => {
    let version = schemaVersion(db, file)
    if (version === 0) {
      const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number
      if (objects > 0) throw new InvalidConfigError('path', `${file} is not a credbroker state database`)
      db.pragma(`application_id = ${APPLICATION_ID}`)
    }
    for (; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version] as string)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  })
  upgrade.immediate()
}

/** The file's schema version, after refusing foreign and newer databases. */
function schemaVersion(db: Database.Database, file: string): number {
  const applicationId = db.pragma('application_id', { simple: true })
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw new InvalidConfigError('path', `${file} is not a credbroker state database`)
  }
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) {
    throw new InvalidConfigError(
      'path',
      `${file} has schema version ${version}, newer than the ${SCHEMA_VERSION} this credbroker ` +
        'understands; upgrade credbroker to use it',
    )
  }
  return version
}

interface FileIdentity {
  dev: number
  ino: number
}

/**
 * Creates the parent directory (0700) and the database file (0600) if missing, and checks that
 * `file` is a regular file rather than a symbolic link, a directory or a device. Modes are set
 * with chmod, so the umask cannot widen them. `O_NOFOLLOW` closes the gap between the check and
 * the open.
 */
function prepareFile(file: string): FileIdentity {
  ensureDirectory(dirname(file))
  refuseNonRegular(file, lstatOrUndefined(file))
  let fd: number
  try {
    fd = openSync(file, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | (fs.O_NOFOLLOW ?? 0), 0o600)
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw fileError(file, 'cannot be created', err)
    try {
      // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
      fd = openSync(file, fs.O_RDONLY | (fs.O_NOFOLLOW ?? 0) | (fs.O_NONBLOCK ?? 0))
    } catch (openErr) {
      throw fileError(file, 'cannot be opened', openErr)
    }
  }
  try {
    const stats = fstatSync(fd)
    refuseNonRegular(file, stats)
    if ((stats.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600)
    return { dev: stats.dev, ino: stats.ino }
  } catch (err) {
    throw err instanceof InvalidConfigError ? err : fileError(file, 'cannot be given mode 0600', err)
  } finally {
    closeSync(fd)
  }
}

function ensureDirectory(dir: string): void {
  try {
    const first = mkdirSync(dir, { recursive: true, mode: 0o700 })
    // mkdir's mode passes through the umask: set it again on each directory created here, and
    // only on those (an existing directory such as /tmp keeps its mode).
    for (let d = dir; first !== undefined; d = dirname(d)) {
      chmodSync(d, 0o700)
      if (d === first || d === dirname(d)) break
    }
  } catch (err) {
    throw fileError(dir, 'cannot be created as a directory with mode 0700', err)
  }
}

/** After SQLite opened `file`: it must still be the file {@link prepareFile} checked. */
function assertSameFile(file: string, identity: FileIdentity): void {
  const stats = lstatOrUndefined(file)
  if (!stats?.isFile() || stats.dev !== identity.dev || stats.ino !== identity.ino) {
    throw new InvalidConfigError('path', `${file} was replaced while it was being opened`)
  }
}

/**
 * The WAL and shared-memory files hold database pages too. SQLite gives them the database file's
 * mode itself (also when another process re-creates them later); setting it here as well keeps
 * the guarantee independent of that behaviour.
 */
function secureSidecars(file: string): void {
  for (const sidecar of [`${file}-wal`, `${file}-shm`]) {
    const stats = lstatOrUndefined(sidecar)
    if (stats === undefined) continue
    refuseNonRegular(sidecar, stats)
    if ((stats.mode & 0o777) === 0o600) continue
    try {
      chmodSync(sidecar, 0o600)
    } catch (err) {
      throw fileError(sidecar, 'cannot be given mode 0600', err)
    }
  }
}

function refuseNonRegular(file: string, stats: Stats | undefined): void {
  if (stats === undefined || stats.isFile()) return
  if (stats.isSymbolicLink()) {
    throw new InvalidConfigError('path', `${file} is a symbolic link; name the database file itself`)
  }
  const what = stats.isDirectory() ? 'a directory' : 'not a regular file'
  throw new InvalidConfigError('path', `${file} is ${what}; it must name the database file`)
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined
    throw fileError(file, 'cannot be inspected', err)
  }
}

function fileError(file: string, problem: string, err: unknown): InvalidConfigError {
  // ELOOP: O_NOFOLLOW met a symbolic link that appeared after the lstat() check.
  if (errnoOf(err) === 'ELOOP') return new InvalidConfigError('path', `${file} is a symbolic link`)
  return new InvalidConfigError('path', `${file} ${problem} (${errnoOf(err) ?? 'unknown error'})`, {
    cause: err,
  })
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
