/**
 * Checks shared by every {@link Store} adapter, so each one enforces the port's contract on keys,
 * values, limits and cursors identically and before any I/O.
 */
import {
  AlreadyExistsError,
  BadRequestError,
  InvalidKeyError,
  NotFoundError,
  RevisionMismatchError,
  TooLargeError,
} from '../errors.ts'
import {
  DEFAULT_LIST_LIMIT,
  type ListOptions,
  MAX_KEY_LENGTH,
  MAX_LIST_LIMIT,
  MAX_VALUE_BYTES,
  type WriteOptions,
} from '../ports/store.ts'

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/

/** Throws `ERR_INVALID_KEY` unless `key` is a valid store key (see the port's "Keys"). */
export function checkKey(key: string): void {
  checkKeyLike(key, 'key')
}

/** Throws `ERR_INVALID_KEY` unless `prefix` is a valid list prefix (non-empty, has a `/`). */
export function checkPrefix(prefix: string): void {
  checkKeyLike(prefix, 'prefix')
}

function checkKeyLike(value: string, what: 'key' | 'prefix'): void {
  if (typeof value !== 'string') throw new TypeError(`store ${what} must be a string`)
  if (value.length === 0 || value.length > MAX_KEY_LENGTH) {
    throw new InvalidKeyError(`store ${what} must be 1 to ${MAX_KEY_LENGTH} characters long`)
  }
  if (!PRINTABLE_ASCII.test(value)) {
    throw new InvalidKeyError(`store ${what} may only hold printable ASCII characters without spaces`)
  }
  if (!value.includes('/')) {
    throw new InvalidKeyError(`store ${what} must contain a '/' after its namespace`)
  }
}

/** The namespace of a key or prefix: the part before the first `/`. */
export function namespaceOf(keyOrPrefix: string): string {
  const slash = keyOrPrefix.indexOf('/')
  if (slash < 0) throw new TypeError('namespaceOf() needs a checked key or prefix')
  return keyOrPrefix.slice(0, slash)
}

/** Throws `ERR_TOO_LARGE` when the value exceeds the port's size limit. */
export function checkValue(value: string): void {
  if (typeof value !== 'string') throw new TypeError('store value must be a string')
  // Cheap upper bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (value.length * 3 <= MAX_VALUE_BYTES) return
  if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
    throw new TooLargeError(`store value exceeds ${MAX_VALUE_BYTES} bytes`)
  }
}

/** Validates write options; returns the expiry in epoch milliseconds, or `undefined`. */
export function expiryOf(options: WriteOptions | undefined): number | undefined {
  const expires = options?.expires
  if (expires === undefined) return undefined
  if (!(expires instanceof Date) || Number.isNaN(expires.getTime())) {
    throw new TypeError('store write option "expires" must be a valid Date')
  }
  return expires.getTime()
}

/** True when an item with this expiry is invisible at `nowMs`. */
export function isExpired(expiresMs: number | undefined, nowMs: number): boolean {
  return expiresMs !== undefined && expiresMs <= nowMs
}

/** A list request after validation: the page size and the key to continue after, if any. */
export interface ListRequest {
  limit: number
  /** List keys strictly greater than this one. */
  after?: string
}

/**
 * Validates list options for `prefix`. The cursor is the last key of the previous page, encoded
 * as base64url: adapters continue strictly after it, which works on every backend and stays
 * correct when that item is deleted between pages.
 */
export function parseListOptions(prefix: string, options: ListOptions | undefined): ListRequest {
  const limit = options?.limit ?? DEFAULT_LIST_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new BadRequestError(`list limit must be an integer from 1 to ${MAX_LIST_LIMIT}`)
  }
  if (options?.cursor === undefined) return { limit }
  const after = decodeCursor(options.cursor)
  if (after === undefined || !after.startsWith(prefix)) {
    throw new BadRequestError('list cursor is malformed or belongs to another prefix')
  }
  return { limit, after }
}

/** Encodes the last key of a page as the opaque cursor for the next one. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string | undefined {
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined
  const key = Buffer.from(cursor, 'base64url').toString('utf8')
  return PRINTABLE_ASCII.test(key) && encodeCursor(key) === cursor ? key : undefined
}

/** The port's errors, worded identically by every adapter. */
export const storeErrors = {
  alreadyExists: (key: string) => new AlreadyExistsError(`an item with key "${key}" already exists`),
  notFound: (key: string) => new NotFoundError(`no item with key "${key}"`),
  revisionMismatch: (key: string) =>
    new RevisionMismatchError(`item "${key}" is absent or at another revision`),
} as const
