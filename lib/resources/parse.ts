/**
 * Reading and writing resource documents: YAML or JSON text in, canonical {@link Resource} out,
 * and back. Every failure is an {@link InvalidResourceError} naming the field (or `''` for the
 * document as a whole) or a {@link TooLargeError}; nothing here throws anything else on bad input.
 *
 * @example
 * const role = parseResource(await readFile('role.yaml', 'utf8'))
 * console.log(toYaml(role))
 */
import { parseAllDocuments, stringify, type YAMLError } from 'yaml'
import { InvalidResourceError, TooLargeError } from '../errors.ts'
import { formatPath, issueMessage, toInvalidResourceError } from './issues.ts'
import { SUPPORTED_VERSIONS } from './metadata.ts'
import { isResourceKind, RESOURCE_KINDS, RESOURCE_SCHEMAS } from './schemas.ts'
import type { Resource } from './types.ts'

/** Largest single document, in UTF-8 bytes. Real documents are a few KiB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024
/** Largest multi-document text accepted by {@link parseResources}, in UTF-8 bytes. */
export const MAX_BUNDLE_BYTES = 1024 * 1024
/** Most documents in one multi-document text. */
export const MAX_DOCUMENTS = 256
/** Most YAML alias expansions per document: defuses "billion laughs" documents. */
const MAX_ALIAS_COUNT = 64
/** Deepest nesting accepted in a document. */
const MAX_DEPTH = 16

export interface ParseOptions {
  /** `json` parses strict JSON; `yaml` (the default) also reads JSON, which is valid YAML. */
  format?: 'yaml' | 'json'
}

/**
 * Validates an already-parsed value (a JSON request body, a YAML document) and returns its
 * canonical form: defaults filled in, selector values as lists, map keys sorted.
 * @throws InvalidResourceError naming the first offending field.
 */
export function validateResource(value: unknown): Resource {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'a list' : value === null ? 'nothing' : `a ${typeof value}`
    throw new InvalidResourceError('', `expected a mapping with kind, version, metadata and spec, got ${got}`)
  }
  const { kind, version } = value as { kind?: unknown; version?: unknown }
  const kinds = RESOURCE_KINDS.join(', ')
  if (kind === undefined || kind === null)
    throw new InvalidResourceError('kind', `is required; valid kinds: ${kinds}`)
  if (!isResourceKind(kind)) {
    throw new InvalidResourceError('kind', `unknown kind ${JSON.stringify(kind)}; valid kinds: ${kinds}`)
  }
  const versions = SUPPORTED_VERSIONS.join(', ')
  if (version === undefined || version === null) {
    throw new InvalidResourceError('version', `is required; supported versions: ${versions}`)
  }
  if (!(SUPPORTED_VERSIONS as readonly unknown[]).includes(version)) {
    throw new InvalidResourceError(
      'version',
      `unsupported version ${JSON.stringify(version)} for kind ${kind}; supported versions: ${versions}`,
    )
  }
  checkPlainData(value, [])
  const result = RESOURCE_SCHEMAS[kind].safeParse(value, { error: issueMessage })
  if (!result.success) throw toInvalidResourceError(result.error)
  return result.data
}

/**
 * Parses and validates exactly one document.
 * @throws TooLargeError when `text` exceeds {@link MAX_DOCUMENT_BYTES} (checked before parsing);
 *   InvalidResourceError for syntax errors (field `''`, with line and column), an empty text,
 *   several documents, or an invalid document.
 */
export function parseResource(text: string, options: ParseOptions = {}): Resource {
  checkSize(text, MAX_DOCUMENT_BYTES, 'a resource document')
  const values = options.format === 'json' ? [parseJson(text)] : parseYaml(text).map((v) => v.value)
  if (values.length === 0) throw new InvalidResourceError('', 'the document is empty')
  if (values.length > 1) {
    throw new InvalidResourceError('', `expected one document, found ${values.length} separated by "---"`)
  }
  return validateResource(values[0])
}

/**
 * Parses and validates a multi-document YAML text (documents separated by `---`; empty ones are
 * skipped) or, with `format: 'json'`, one JSON document or a JSON list of documents.
 * Errors name the document by position (`… (document 2)`).
 * @throws TooLargeError beyond {@link MAX_BUNDLE_BYTES}, {@link MAX_DOCUMENTS} documents or a
 *   document of more than {@link MAX_DOCUMENT_BYTES}; InvalidResourceError as for
 *   {@link parseResource}.
 */
export function parseResources(text: string, options: ParseOptions = {}): Resource[] {
  checkSize(text, MAX_BUNDLE_BYTES, 'a multi-document text')
  let values: YamlValue[]
  if (options.format === 'json') {
    const parsed = parseJson(text)
    const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed]
    if (list.length > MAX_DOCUMENTS)
      throw new TooLargeError(`at most ${MAX_DOCUMENTS} documents are accepted`)
    values = list.map((value, index) => ({ value, position: index + 1 }))
  } else {
    values = parseYaml(text, true)
  }
  const several = values.length > 1 || values.some((v) => v.position > 1)
  return values.map(({ value, position }) => {
    try {
      return validateResource(value)
    } catch (err) {
      throw several && err instanceof InvalidResourceError ? inDocument(err, position) : err
    }
  })
}

/** YAML for output: canonical key order, no line folding, no anchors. */
export function toYaml(resource: Resource | readonly Resource[]): string {
  const docs = Array.isArray(resource) ? resource : [resource as Resource]
  return docs
    .map((doc) => stringify(validateResource(doc), { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n')
}

/** JSON for output and storage: canonical key order; `indent` 0 gives one compact line. */
export function toJson(resource: Resource, options: { indent?: number } = {}): string {
  return JSON.stringify(validateResource(resource), null, options.indent ?? 2)
}

/**
 * Documents are plain data: mappings, lists, strings, finite numbers, booleans and null. YAML
 * tags such as `!!binary` or `!!set` and values built in code (a `Date`, a `Buffer`) would
 * otherwise reach the schemas as objects with surprising keys.
 */
function checkPlainData(value: unknown, path: (string | number)[]): void {
  // Canonical documents nest about 7 levels deep; a limit keeps recursion here and in zod bounded.
  if (path.length > MAX_DEPTH) throw new InvalidResourceError(formatPath(path), 'is nested too deeply')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidResourceError(formatPath(path), 'expected a finite number')
    return
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkPlainData(item, [...path, index])
    })
    return
  }
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined
  if (proto !== Object.prototype && proto !== null) {
    const what = typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
    throw new InvalidResourceError(
      formatPath(path),
      `expected plain data (a mapping, list, string, number, boolean or null), got ${what}`,
    )
  }
  for (const [key, item] of Object.entries(value as object)) checkPlainData(item, [...path, key])
}

function checkSize(text: string, limit: number, what: string): void {
  if (typeof text !== 'string') throw new TypeError('resource text must be a string')
  // A UTF-16 code unit is 1–3 UTF-8 bytes: skip the exact count when the answer is certain.
  if (text.length > limit || (text.length * 3 > limit && Buffer.byteLength(text, 'utf8') > limit)) {
    throw new TooLargeError(`${what} may be at most ${limit} bytes (${limit / 1024} KiB)`)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const at = /at position (\d+)/.exec(message)
    const where = at ? ` at ${lineColumn(text, Number(at[1]))}` : ''
    const detail = message.replace(/\s*(?:in JSON )?at position \d+.*$/, '')
    throw new InvalidResourceError('', `invalid JSON${where}: ${detail}`, { cause: err })
  }
}

/** One parsed YAML document and its 1-based position in the text (for error messages). */
interface YamlValue {
  readonly value: unknown
  readonly position: number
}

/** Parses YAML text into its non-empty documents (a stray `---` or a comment-only one is skipped). */
function parseYaml(text: string, many = false): YamlValue[] {
  const docs = parseAllDocuments(text, { schema: 'core', uniqueKeys: true, prettyErrors: true, merge: false })
  // For text without documents this is an `EmptyStream`, which is an empty array too.
  const list = [...docs]
  if (list.length > MAX_DOCUMENTS) throw new TooLargeError(`at most ${MAX_DOCUMENTS} documents are accepted`)
  const values: YamlValue[] = []
  list.forEach((doc, index) => {
    const problem = doc.errors[0] ?? doc.warnings[0]
    const label = many && list.length > 1 ? ` (document ${index + 1})` : ''
    if (problem)
      throw new InvalidResourceError('', `${describeYamlError(problem)}${label}`, { cause: problem })
    const [start, , end] = doc.range
    if (many && Buffer.byteLength(text.slice(start, end), 'utf8') > MAX_DOCUMENT_BYTES) {
      throw new TooLargeError(`a resource document may be at most ${MAX_DOCUMENT_BYTES} bytes${label}`)
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (err) {
      throw new InvalidResourceError('', `invalid YAML: ${(err as Error).message}${label}`, { cause: err })
    }
    if (value !== null && value !== undefined) values.push({ value, position: index + 1 })
  })
  return values
}

function describeYamlError(err: YAMLError): string {
  const pos = err.linePos?.[0]
  const where = pos ? ` at line ${pos.line}, column ${pos.col}` : ''
  const detail = err.message.split(/ at line \d+, column \d+/)[0] ?? err.message
  return `invalid YAML${where}: ${detail.split('\n')[0]}`
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}

function inDocument(err: InvalidResourceError, position: number): InvalidResourceError {
  const problem = err.field === '' ? err.message : err.message.slice(err.field.length + 2)
  return new InvalidResourceError(err.field, `${problem} (document ${position})`, { cause: err })
}
