/**
 * The embedded store's one translator from SQLite failures to domain errors (G4, G7).
 *
 * better-sqlite3 throws `SqliteError { name: 'SqliteError', code }` where `code` is SQLite's
 * *extended* result code (`SQLITE_BUSY_SNAPSHOT`, `SQLITE_IOERR_FSYNC`, …). The table below is
 * keyed by the primary code (the part up to the second `_`), so every extended variant inherits
 * its family's message. Every SQLite failure becomes `ERR_STORE_UNAVAILABLE`: none of them says
 * anything about the caller's data (conditional writes are decided by `changes`, never by
 * constraint errors). The original error stays as `cause`, the SQLite code goes to `details`.
 */
import { BrokerError, StoreUnavailableError } from '../../errors.ts'

interface Rule {
  /** Caller-safe text; the SQLite code is appended. */
  readonly message: string
  /** True when the same call may succeed if retried after a short wait. */
  readonly retryable: boolean
}

const RULES: Readonly<Record<string, Rule>> = {
  // Still locked after busy_timeout: another process held the write lock for seconds.
  SQLITE_BUSY: { message: 'the state database is locked by another process; retry shortly', retryable: true },
  SQLITE_LOCKED: { message: 'the state database is locked by a conflicting operation', retryable: true },
  SQLITE_PROTOCOL: { message: 'the state database lock protocol failed; retry shortly', retryable: true },
  SQLITE_INTERRUPT: { message: 'a state database operation was interrupted', retryable: true },
  SQLITE_NOMEM: { message: 'the state database ran out of memory', retryable: true },
  SQLITE_IOERR: { message: 'the state database file could not be read or written', retryable: false },
  SQLITE_FULL: { message: 'the disk holding the state database is full', retryable: false },
  SQLITE_CANTOPEN: { message: 'the state database file cannot be opened', retryable: false },
  SQLITE_READONLY: { message: 'the state database is read-only', retryable: false },
  SQLITE_PERM: { message: 'access to the state database was denied', retryable: false },
  SQLITE_AUTH: { message: 'access to the state database was denied', retryable: false },
  SQLITE_CORRUPT: { message: 'the state database file is corrupt', retryable: false },
  SQLITE_NOTADB: { message: 'the state database path holds a file that is not a database', retryable: false },
}

const FALLBACK: Rule = { message: 'the state database failed', retryable: false }

/**
 * Maps anything thrown while talking to SQLite to what may escape a {@link Store} method:
 * - a `BrokerError` is returned unchanged (it was raised on purpose);
 * - a `TypeError` or `RangeError` is returned unchanged: better-sqlite3 raises those for misuse
 *   (wrong bind types, a closed connection), which are programmer errors;
 * - a SQLite error becomes `StoreUnavailableError` with the message of its code family;
 * - anything else becomes `StoreUnavailableError` too, since it says nothing about the data.
 *
 * @param operation the store operation, for the logs (`'get'`, `'open'`, …).
 * @example
 * try { stmt.run(params) } catch (err) { throw translateSqliteError(err, 'put') }
 */
export function translateSqliteError(err: unknown, operation: string): Error {
  if (err instanceof BrokerError || err instanceof TypeError || err instanceof RangeError) return err
  const code = sqliteCodeOf(err)
  if (code === undefined) {
    return new StoreUnavailableError('the state database failed unexpectedly', {
      cause: err,
      details: { operation },
    })
  }
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code
  const rule = RULES[primary] ?? FALLBACK
  return new StoreUnavailableError(`${rule.message} (${code})`, {
    cause: err,
    details: { operation, sqliteCode: code, retryable: rule.retryable },
  })
}

/** The SQLite result code of a better-sqlite3 `SqliteError` (or a look-alike), else undefined. */
function sqliteCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const { name, code } = err as { name?: unknown; code?: unknown }
  return name === 'SqliteError' && typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined
}
