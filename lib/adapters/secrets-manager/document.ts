/**
 * The JSON document one secret version holds: one complete artifact set.
 *
 * ```json
 * { "format": "credbroker.v1", "issuance_id": "…", "written_at": "2026-01-01T00:00:00.000Z",
 *   "artifacts": { "key": { "encoding": "utf8", "data": "-----BEGIN…" },
 *                  "blob.bin": { "encoding": "base64", "data": "AAEC" } },
 *   "output": "ci", "not_after": "…" }
 * ```
 * An artifact is stored as `utf8` when its bytes are valid UTF-8 (a leading BOM is kept), else as
 * `base64`. Extra top-level fields are pass-through metadata (output name and type, serials,
 * validity, roles, CA fingerprints…) for consumers; credbroker itself reads only the artifacts.
 */
import { createHash } from 'node:crypto'
import { InvalidConfigError } from '../../errors.ts'
import { isArtifactName } from '../../ports/destination.ts'

export const DOCUMENT_FORMAT = 'credbroker.v1'
/** AWS's limit on a SecretString, in UTF-8 bytes (not enforced by moto). */
export const MAX_SECRET_STRING_BYTES = 65_536

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
/** Pass-through fields; keys are 1–64 of `[a-z0-9_]` starting with a letter, not reserved. */
export type SecretMetadata = Readonly<Record<string, JsonValue>>

const RESERVED = new Set(['format', 'issuance_id', 'written_at', 'artifacts'])
const METADATA_KEY = /^[a-z][a-z0-9_]{0,63}$/

export interface DocumentInput {
  artifacts: ReadonlyMap<string, Uint8Array>
  issuanceId?: string | undefined
  writtenAt: Date
  metadata?: SecretMetadata | undefined
}

/** A parsed document: the artifacts as bytes, and `content`, its identity without `written_at`. */
export interface ParsedDocument {
  artifacts: Map<string, Uint8Array>
  issuanceId: string | undefined
  /** Canonical JSON of everything but `written_at`: equal for two writes of the same content. */
  content: string
}

/**
 * Checks pass-through metadata (a programmer error when malformed).
 * @throws TypeError naming the bad key.
 */
export function checkMetadata(
  metadata: unknown,
  where: string,
): asserts metadata is SecretMetadata | undefined {
  if (metadata === undefined) return
  if (!isPlainObject(metadata)) throw new TypeError(`${where} must be a plain object`)
  for (const [key, value] of Object.entries(metadata)) {
    if (!METADATA_KEY.test(key) || RESERVED.has(key)) {
      throw new TypeError(`${where}: key ${JSON.stringify(key)} is reserved or not 1-64 of [a-z0-9_]`)
    }
    if (!isJson(value)) throw new TypeError(`${where}.${key} must be a JSON value (finite numbers only)`)
  }
}

/** The SecretString of one write, and its `content` (see {@link ParsedDocument.content}). */
export function encodeDocument(input: DocumentInput): { secretString: string; content: string } {
  const artifacts: Record<string, { encoding: 'utf8' | 'base64'; data: string }> = {}
  for (const [name, bytes] of input.artifacts) {
    const text = utf8(bytes)
    artifacts[name] =
      text === undefined
        ? { encoding: 'base64', data: Buffer.from(bytes).toString('base64') }
        : { encoding: 'utf8', data: text }
  }
  const doc = {
    format: DOCUMENT_FORMAT,
    ...(input.issuanceId === undefined ? {} : { issuance_id: input.issuanceId }),
    written_at: input.writtenAt.toISOString(),
    artifacts,
    ...input.metadata,
  }
  const { written_at: _ignored, ...rest } = doc
  return { secretString: JSON.stringify(doc), content: canonical(rest as JsonValue) }
}

/**
 * Parses and strictly checks a stored document.
 * @throws InvalidConfigError (field `name`) when the secret does not hold a credbroker.v1
 *   document: the destination points at a secret credbroker did not write.
 */
export function parseDocument(secretString: string | undefined, secretName: string): ParsedDocument {
  const bad = (why: string) =>
    new InvalidConfigError(
      'name',
      `secret "${secretName}" does not hold a ${DOCUMENT_FORMAT} document: ${why}`,
    )
  if (typeof secretString !== 'string') throw bad('it has no SecretString')
  let doc: unknown
  try {
    doc = JSON.parse(secretString)
  } catch {
    throw bad('it is not JSON')
  }
  if (!isPlainObject(doc) || doc.format !== DOCUMENT_FORMAT) throw bad('wrong or missing "format"')
  if (typeof doc.written_at !== 'string' || Number.isNaN(Date.parse(doc.written_at))) {
    throw bad('"written_at" is not a timestamp')
  }
  const issuanceId = doc.issuance_id
  if (issuanceId !== undefined && typeof issuanceId !== 'string') throw bad('"issuance_id" is not a string')
  if (!isPlainObject(doc.artifacts)) throw bad('"artifacts" is not an object')
  const artifacts = new Map<string, Uint8Array>()
  for (const name of Object.keys(doc.artifacts).sort()) {
    const entry = doc.artifacts[name]
    if (!isArtifactName(name)) throw bad(`artifact name ${JSON.stringify(name)} is invalid`)
    if (!isPlainObject(entry) || typeof entry.data !== 'string') throw bad(`artifact ${name} is malformed`)
    if (entry.encoding === 'utf8') artifacts.set(name, new TextEncoder().encode(entry.data))
    else if (entry.encoding === 'base64' && isBase64(entry.data)) {
      artifacts.set(name, new Uint8Array(Buffer.from(entry.data, 'base64')))
    } else throw bad(`artifact ${name} has a bad encoding or data`)
  }
  if (artifacts.size === 0) throw bad('it holds no artifacts')
  const { written_at: _ignored, ...rest } = doc
  return { artifacts, issuanceId, content: canonical(rest as JsonValue) }
}

/**
 * The `ClientRequestToken` of a write (64 hex characters; AWS wants 32–64). With an issuance id:
 * SHA-256 of `<secret name>\0<issuanceId>`, so every retry of one issuance names one version.
 * Without: SHA-256 of `<secret name>\0\0<content>` (the document minus `written_at`), so an
 * identical retry names the same version.
 */
export function versionToken(secretName: string, issuanceId: string | undefined, content: string): string {
  const input = issuanceId === undefined ? `${secretName}\0\0${content}` : `${secretName}\0${issuanceId}`
  return createHash('sha256').update(input, 'utf8').digest('hex')
}

/** JSON with object keys sorted at every level. */
export function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as JsonValue)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return undefined
  }
}

function isBase64(data: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(data) && Buffer.from(data, 'base64').toString('base64') === data
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function isJson(value: unknown, depth = 0): boolean {
  if (depth > 16) return false
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1))
  return isPlainObject(value) && Object.values(value).every((v) => isJson(v, depth + 1))
}
