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
 * - Files: the directory is created 0700, the database 0600 whatever the umask (`files.ts`).
 * - Schema: versioned and migrated at open (`schema.ts`); the SQL itself is in `statements.ts`.
 *
 * @example
 * const store = await EmbeddedStore.open({ path: '.credbroker/state.db' })
 * try {
 *   await store.create('role/admin', JSON.stringify(role))
 * } finally {
 *   await store.close()
 * }
 */
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import { type Clock, systemClock } from '../../clock.ts'
import { InvalidConfigError, StoreUnavailableError } from '../../errors.ts'
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
  storeErrors,
} from '../store-contract.ts'
import { translateSqliteError } from './errors.ts'
import { assertSameFile, prepareFile, secureSidecars } from './files.ts'
import { migrate } from './schema.ts'
import { prefixUpperBound, prepareStatements, type Statements, toItem } from './statements.ts'

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
    this.#stmts = prepareStatements(db)
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
      throw storeErrors.alreadyExists(key)
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
    if (this.#run('compareAndSwap', (s) => s.swap.run(params).changes) === 0)
      throw storeErrors.revisionMismatch(key)
    return this.#written({ revision })
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.#assertOpen()
    checkKey(key)
    const revision = options?.revision
    const now = this.#now()
    if (revision === undefined) {
      const changes = this.#run('delete', (s) => s.delete.run({ key, now }).changes)
      if (changes === 0) throw storeErrors.notFound(key)
    } else {
      const changes = this.#run('delete', (s) => s.deleteAt.run({ key, revision, now }).changes)
      if (changes === 0) throw storeErrors.revisionMismatch(key)
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
