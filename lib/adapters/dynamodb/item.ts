/**
 * How a {@link StoreItem} is laid out in the table. One item per key:
 *
 * | attribute    | type | meaning                                                              |
 * |--------------|------|----------------------------------------------------------------------|
 * | `pk`         | S    | partition key: the key's namespace (`role` for `role/admin`)          |
 * | `sk`         | S    | sort key: the full key, so a namespace lists in byte order            |
 * | `value`      | S    | the opaque value                                                      |
 * | `rev`        | S    | revision: a fresh `random.uuid()` on every write                      |
 * | `expires_ms` | N    | expiry in epoch ms, compared with the injected clock (exact)         |
 * | `ttl`        | N    | DynamoDB TTL attribute, epoch **seconds** = ceil(expires_ms / 1000)   |
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { StoreUnavailableError } from '../../errors.ts'
import type { StoreItem } from '../../ports/store.ts'
import { namespaceOf } from '../store-contract.ts'

/** The primary key (`pk` + `sk`) of the item holding `key`. */
export function keyOf(key: string): Record<string, AttributeValue> {
  return { pk: { S: namespaceOf(key) }, sk: { S: key } }
}

export function numberAttr(n: number): AttributeValue {
  return { N: String(n) }
}

/** The whole item written for `key`; `expires_ms` and `ttl` only when it expires. */
export function toAttributes(
  key: string,
  value: string,
  revision: string,
  expiresMs: number | undefined,
): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { ...keyOf(key), value: { S: value }, rev: { S: revision } }
  if (expiresMs !== undefined) {
    item.expires_ms = numberAttr(expiresMs)
    // Rounded up: the TTL sweeper must never remove an item before `expires_ms`.
    item.ttl = numberAttr(Math.ceil(expiresMs / 1000))
  }
  return item
}

/** Reads a raw item; anything off-schema is the backend's fault, not the caller's. */
export function toItem(raw: Record<string, AttributeValue>): StoreItem {
  const key = raw.sk?.S
  const value = raw.value?.S
  const revision = raw.rev?.S
  const expiresText = raw.expires_ms?.N
  const expiresMs = expiresText === undefined ? undefined : Number(expiresText)
  if (key === undefined || value === undefined || revision === undefined || Number.isNaN(expiresMs)) {
    throw new StoreUnavailableError('the state store returned an item that does not match its schema')
  }
  return expiresMs === undefined
    ? { key, value, revision }
    : { key, value, revision, expires: new Date(expiresMs) }
}
