/**
 * The error a bot process gets when another one holds its storage's lease (`lease-record.ts`).
 *
 * Code `ERR_ALREADY_EXISTS` (409): taking the lease is a create-if-absent, and it found a live
 * lease already there. Not `ERR_THROTTLED`, which means "retry after a backoff" and is what the
 * directory lock answers for milliseconds of writer contention: this conflict lasts until an
 * operator changes a configuration, so the daemon stops instead of retrying. Not
 * `ERR_INVALID_CONFIG` either: each bot's configuration is valid on its own.
 */
import { AlreadyExistsError } from '../errors.ts'
import type { LeaseRecord } from './lease-record.ts'

export class StorageInUseError extends AlreadyExistsError {
  /** `describe()` of the storage. */
  readonly storage: string
  /** The lease found, or `undefined` when another writer replaced the set without one. */
  readonly holder: LeaseRecord | undefined

  /**
   * @example
   * // the bot storage directory /var/lib/credbroker is in use by another bot process (host h1,
   * // pid 4242, since 2026-01-01T00:00:00.000Z, until 2026-01-01T00:40:00.000Z); give each bot
   * // its own storage
   */
  constructor(storage: string, holder: LeaseRecord | undefined) {
    const who =
      holder === undefined
        ? 'it replaced the storage while this process was taking it'
        : `host ${holder.host}, pid ${holder.pid}, since ${holder.acquired_at}, until ${holder.expires_at}`
    super(
      `the bot storage ${storage} is in use by another bot process (${who}); give each bot its own storage`,
      {
        details: { storage, ...(holder && { holder: holder.holder, mode: holder.mode }) },
      },
    )
    this.storage = storage
    this.holder = holder
  }
}
