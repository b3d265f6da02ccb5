/**
 * KMS key identifiers and the key store's references to them (`kms:<identifier>`).
 *
 * Accepted identifiers (KMS's own forms, nothing else): a key id (a UUID, or `mrk-` and 32 hex
 * digits for a multi-Region key), a key ARN, an alias name (`alias/…`) or an alias ARN.
 */

const KEY_ID = '(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})'
const ALIAS = 'alias/[A-Za-z0-9/_-]{1,250}'
const ARN_PREFIX = 'arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\\d{12}:'
const IDENTIFIER = `(?:${KEY_ID}|${ALIAS}|${ARN_PREFIX}(?:key/${KEY_ID}|${ALIAS}))`

const IDENTIFIER_RE = new RegExp(`^${IDENTIFIER}$`)
const REF_RE = new RegExp(`^kms:(${IDENTIFIER})$`)

/** Whether `value` is a KMS key id, key ARN, alias name or alias ARN. */
export function isKmsKeyIdentifier(value: unknown): value is string {
  return typeof value === 'string' && IDENTIFIER_RE.test(value)
}

/** The key store reference of a KMS key identifier. */
export const kmsRef = (identifier: string): string => `kms:${identifier}`

/** The identifier in a `kms:` reference, or undefined for anything that is not exactly one. */
export function parseKmsRef(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined
  return REF_RE.exec(ref)?.[1]
}
