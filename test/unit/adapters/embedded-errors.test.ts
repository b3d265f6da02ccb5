import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { translateSqliteError } from '../../../lib/adapters/embedded/errors.ts'
import { AlreadyExistsError, StoreUnavailableError } from '../../../lib/errors.ts'

/** An error shaped like better-sqlite3's SqliteError, without going through the native module. */
function lookalike(code: string, message = 'sqlite says no'): Error {
  const err = new Error(message)
  Object.defineProperty(err, 'name', { value: 'SqliteError' })
  return Object.assign(err, { code })
}

describe('Function: translateSqliteError', () => {
  const cases: { name: string; code: string; message: RegExp; retryable: boolean }[] = [
    {
      name: 'ok/busy after busy_timeout',
      code: 'SQLITE_BUSY',
      message: /locked by another process/,
      retryable: true,
    },
    {
      name: 'ok/busy snapshot (extended code)',
      code: 'SQLITE_BUSY_SNAPSHOT',
      message: /locked by another/,
      retryable: true,
    },
    {
      name: 'ok/locked',
      code: 'SQLITE_LOCKED',
      message: /locked by a conflicting operation/,
      retryable: true,
    },
    { name: 'ok/locked shared cache', code: 'SQLITE_LOCKED_SHAREDCACHE', message: /locked/, retryable: true },
    { name: 'ok/lock protocol', code: 'SQLITE_PROTOCOL', message: /lock protocol/, retryable: true },
    { name: 'ok/out of memory', code: 'SQLITE_NOMEM', message: /out of memory/, retryable: true },
    { name: 'ok/I/O error', code: 'SQLITE_IOERR', message: /could not be read or written/, retryable: false },
    {
      name: 'ok/fsync failed',
      code: 'SQLITE_IOERR_FSYNC',
      message: /could not be read or written/,
      retryable: false,
    },
    {
      name: 'ok/short read',
      code: 'SQLITE_IOERR_SHORT_READ',
      message: /could not be read/,
      retryable: false,
    },
    { name: 'ok/disk full', code: 'SQLITE_FULL', message: /disk .* is full/, retryable: false },
    { name: 'ok/cannot open', code: 'SQLITE_CANTOPEN', message: /cannot be opened/, retryable: false },
    {
      name: 'ok/cannot open a directory',
      code: 'SQLITE_CANTOPEN_ISDIR',
      message: /cannot be opened/,
      retryable: false,
    },
    { name: 'ok/corrupt', code: 'SQLITE_CORRUPT', message: /corrupt/, retryable: false },
    { name: 'ok/corrupt index', code: 'SQLITE_CORRUPT_INDEX', message: /corrupt/, retryable: false },
    { name: 'ok/not a database', code: 'SQLITE_NOTADB', message: /not a database/, retryable: false },
    { name: 'ok/read-only', code: 'SQLITE_READONLY', message: /read-only/, retryable: false },
    {
      name: 'ok/read-only database moved',
      code: 'SQLITE_READONLY_DBMOVED',
      message: /read-only/,
      retryable: false,
    },
    { name: 'ok/permission', code: 'SQLITE_PERM', message: /denied/, retryable: false },
    {
      name: 'ok/unknown code falls back',
      code: 'SQLITE_SCHEMA',
      message: /^the state database failed/,
      retryable: false,
    },
    {
      name: 'ok/generic error falls back',
      code: 'SQLITE_ERROR',
      message: /^the state database failed/,
      retryable: false,
    },
  ]

  for (const { name, code, message, retryable } of cases) {
    it(name, () => {
      const cause = lookalike(code)
      const err = translateSqliteError(cause, 'put')
      assert.ok(err instanceof StoreUnavailableError)
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE')
      assert.equal(err.status, 503)
      assert.match(err.message, message)
      assert.ok(err.message.endsWith(`(${code})`), err.message)
      assert.ok(!err.message.includes('sqlite says no'), 'the raw SQLite text stays in the logs')
      assert.equal(err.cause, cause)
      assert.deepEqual(err.details, { operation: 'put', sqliteCode: code, retryable })
    })
  }

  it('ok/maps a real better-sqlite3 SqliteError', () => {
    const cause = new Database.SqliteError('database is locked', 'SQLITE_BUSY')
    const err = translateSqliteError(cause, 'create')
    assert.ok(err instanceof StoreUnavailableError)
    assert.match(err.message, /locked by another process.*\(SQLITE_BUSY\)$/)
    assert.equal(err.cause, cause)
  })

  it('ok/maps a plain object shaped like a SqliteError', () => {
    const cause = { name: 'SqliteError', code: 'SQLITE_FULL', message: 'database or disk is full' }
    const err = translateSqliteError(cause, 'put')
    assert.ok(err instanceof StoreUnavailableError)
    assert.match(err.message, /is full/)
  })

  it('ok/passes BrokerErrors through unchanged', () => {
    const original = new AlreadyExistsError('taken')
    assert.equal(translateSqliteError(original, 'create'), original)
  })

  it('ok/passes programmer errors (TypeError, RangeError) through unchanged', () => {
    for (const original of [
      new TypeError('The database connection is not open'),
      new RangeError('too many'),
    ]) {
      assert.equal(translateSqliteError(original, 'get'), original)
    }
  })

  it('ok/anything else becomes ERR_STORE_UNAVAILABLE without a SQLite code', () => {
    for (const cause of [new Error('boom'), 'a string', undefined, { code: 'SQLITE_BUSY' }]) {
      const err = translateSqliteError(cause, 'list')
      assert.ok(err instanceof StoreUnavailableError)
      assert.equal(err.message, 'the state database failed unexpectedly')
      assert.equal(err.cause, cause)
      assert.deepEqual(err.details, { operation: 'list' })
    }
  })
})
