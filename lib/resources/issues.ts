/**
 * Turns zod validation issues into one {@link InvalidResourceError} that names the field
 * (`spec.allow.db_labels.env[0]`) and says what is wrong in plain words.
 *
 * Schemas in this folder carry their own messages where they know better (`expected a list of
 * strings`); {@link issueMessage} supplies the rest, replacing zod's defaults, and is passed per
 * parse so it never changes how zod behaves for other code in the process.
 */
import type * as z from 'zod'
import { InvalidResourceError } from '../errors.ts'

/** Dotted path of a field: `spec.allow.db_labels.env[0]`; odd keys are quoted (`labels["a/b"]`). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) {
      out += out === '' ? segment : `.${segment}`
    } else out += `[${JSON.stringify(String(segment))}]`
  }
  return out
}

/**
 * The error for a failed parse: the first unknown field if there is one (a misspelt field name
 * usually explains every other issue, such as the "missing" field it was meant to be), otherwise
 * the first issue in document order.
 */
export function toInvalidResourceError(error: z.ZodError): InvalidResourceError {
  const issues = error.issues
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]
  if (!issue) return new InvalidResourceError('', 'the document is invalid')
  if (issue.code === 'unrecognized_keys') {
    const [first = ''] = issue.keys
    return new InvalidResourceError(formatPath([...issue.path, first]), issue.message, { cause: error })
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? 'is not a valid key'
    return new InvalidResourceError(formatPath(issue.path), inner, { cause: error })
  }
  return new InvalidResourceError(formatPath(issue.path), issue.message, { cause: error })
}

/** A raw issue as zod hands it to an error map (loosely typed: fields depend on `code`). */
interface RawIssue {
  readonly code?: string
  readonly input?: unknown
  readonly expected?: string
  readonly values?: readonly unknown[]
  readonly keys?: readonly string[]
  readonly origin?: string
  readonly minimum?: number | bigint
  readonly maximum?: number | bigint
  readonly inst?: unknown
}

/**
 * Per-parse zod error map: plain-words messages for every issue a schema did not word itself.
 * Pass it as `schema.safeParse(value, { error: issueMessage })`.
 */
export function issueMessage(raw: unknown): string {
  const iss = raw as RawIssue
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required'
      return `expected ${describeExpected(iss.expected)}, got ${describeInput(iss.input)}`
    case 'invalid_value': {
      const values = (iss.values ?? []).map((v) => JSON.stringify(v))
      return values.length === 1 ? `expected ${values[0]}` : `expected one of: ${values.join(', ')}`
    }
    case 'unrecognized_keys':
      return unknownFieldMessage(iss.keys ?? [], knownKeys(iss.inst))
    case 'too_small':
      return iss.origin === 'array'
        ? `must have at least ${iss.minimum} entries`
        : iss.origin === 'string'
          ? `must be at least ${iss.minimum} characters`
          : `must be at least ${iss.minimum}`
    case 'too_big':
      return iss.origin === 'array'
        ? `must have at most ${iss.maximum} entries`
        : iss.origin === 'string'
          ? `must be at most ${iss.maximum} characters`
          : `must be at most ${iss.maximum}`
    case 'invalid_union':
      return 'does not match any allowed form'
    default:
      return 'is invalid'
  }
}

function describeExpected(expected: string | undefined): string {
  switch (expected) {
    case 'string':
      return 'a string'
    case 'number':
    case 'int':
      return 'a number'
    case 'boolean':
      return 'true or false'
    case 'array':
      return 'a list'
    case 'object':
    case 'record':
      return 'a mapping'
    default:
      return expected ?? 'another type'
  }
}

function describeInput(input: unknown): string {
  if (input === null) return 'null (an empty value)'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  if (typeof input === 'string') return 'a string'
  return `${typeof input} ${String(input)}`
}

/** The field names of the strict object that reported unknown keys, for suggestions. */
function knownKeys(inst: unknown): readonly string[] {
  const shape = (inst as { _zod?: { def?: { shape?: unknown } } } | undefined)?._zod?.def?.shape
  return shape !== null && typeof shape === 'object' ? Object.keys(shape) : []
}

function unknownFieldMessage(keys: readonly string[], known: readonly string[]): string {
  const [first = '', ...rest] = keys
  let message = `unknown field ${JSON.stringify(first)}`
  const suggestion = closest(first, known)
  if (suggestion) message += ` (did you mean ${JSON.stringify(suggestion)}?)`
  else if (known.length > 0 && known.length <= 12) {
    message += `; expected ${known.map((k) => JSON.stringify(k)).join(', ')}`
  }
  if (rest.length > 0) {
    const shown = rest.slice(0, 5).map((k) => JSON.stringify(k))
    if (rest.length > 5) shown.push(`and ${rest.length - 5} more`)
    message += ` (also unknown: ${shown.join(', ')})`
  }
  return message
}

/** The known key within edit distance 2 (or a third of its length) of `key`, if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY
}
