/**
 * The SQL the embedded store runs, and the mapping from its rows to {@link StoreItem}s. Every
 * statement hides expired rows by comparing `expires_ms` with `@now`, the injected clock.
 */
import type Database from 'better-sqlite3'
import type { StoreItem } from '../../ports/store.ts'

/** One row of the `items` table (see the migrations in `schema.ts`). */
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

/** The prepared form of every statement in {@link SQL}, by name. */
export type Statements = { [K in keyof typeof SQL]: Database.Statement<[Params], Row> }

/** Prepares every statement on `db`; the result is valid until `db` is closed. */
export function prepareStatements(db: Database.Database): Statements {
  const entries = Object.entries(SQL).map(([name, sql]) => [name, db.prepare<[Params], Row>(sql)])
  return Object.fromEntries(entries) as Statements
}

/**
 * The smallest string above every key that starts with `prefix`. Keys and prefixes are printable
 * ASCII (at most 0x7E), so bumping the last character never overflows.
 */
export function prefixUpperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

/** A row as a {@link StoreItem}; `expires` is present only when the row has an expiry. */
export function toItem(row: Row): StoreItem {
  const { key, value, revision, expires_ms } = row
  return expires_ms === null
    ? { key, value, revision }
    : { key, value, revision, expires: new Date(expires_ms) }
}
