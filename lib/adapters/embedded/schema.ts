/**
 * The embedded store's database schema: its identity (`PRAGMA application_id`), its version
 * (`PRAGMA user_version`) and the migrations between versions. A foreign database, or one with a
 * schema newer than this release understands, is refused rather than touched.
 */
import type Database from 'better-sqlite3'
import { InvalidConfigError } from '../../errors.ts'

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

/**
 * Brings the schema to {@link SCHEMA_VERSION}. The version is re-read under the write lock, since
 * another process may be migrating the same file at the same moment.
 * @throws InvalidConfigError (`ERR_INVALID_CONFIG`, field `path`) for a foreign or newer database.
 */
export function migrate(db: Database.Database, file: string): void {
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
