/**
 * Go-style durations (`"1h30m"`, `"45s"`, `"1.5h"`, `"250ms"`), as written in resource documents
 * and configuration files.
 *
 * ## Accepted syntax
 * One or more `<number><unit>` groups with no separators, where `<number>` is decimal digits with
 * an optional fraction (`1`, `1.5`; not `.5` or `1.`) and `<unit>` is `h`, `m`, `s` or `ms`. Units
 * may repeat and appear in any order, exactly like Go's `time.ParseDuration` (`30m1h` is 90
 * minutes). This is a strict subset of Go's syntax, so any duration accepted here means the same
 * in Teleport or any Go tool. Deliberately rejected:
 * - signs (`-1h`, `+1h`): a negative TTL or interval is never meaningful here;
 * - bare numbers, including `0`: a unitless value is ambiguous (seconds? minutes?);
 * - `ns`, `us`, `µs`: credbroker counts milliseconds, so they could only round;
 * - `d`: Go has no day unit, and `24h` is unambiguous;
 * - values that are not a whole number of milliseconds (`1.5ms`, `0.0001s`);
 * - values above {@link MAX_DURATION_MS} (Go's own limit) and text over 64 characters.
 *
 * ## Canonical form
 * {@link formatDuration} prints Go's `time.Duration.String()` form (`1h30m0s`, `45s`, `1.5s`,
 * `250ms`, `0s`), so `parseDuration(formatDuration(ms)) === ms` for every valid `ms`. Resource
 * documents keep the string as written; the canonical form is for output that we generate.
 */

/** Milliseconds per unit. */
const UNIT_MS: Readonly<Record<string, bigint>> = Object.freeze({
  ms: 1n,
  s: 1_000n,
  m: 60_000n,
  h: 3_600_000n,
})

/** The largest duration Go can represent (2^63−1 ns), in whole milliseconds: about 292 years. */
export const MAX_DURATION_MS = 9_223_372_036_854

/** Longest duration text we look at; anything longer is rejected before any arithmetic. */
const MAX_TEXT_LENGTH = 64

const GROUP = /(\d+)(?:\.(\d+))?([a-zµ]+)/y

/** The outcome of {@link tryParseDuration}: milliseconds, or a problem to show the user. */
export type DurationResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly problem: string }

/**
 * The problem with an invalid duration. Thrown by {@link parseDuration}; callers that validate
 * untrusted input turn `problem` into their own error naming the field (`InvalidResourceError`,
 * `InvalidConfigError`). It is not a `BrokerError` on purpose: on its own it does not know which
 * field or document was wrong.
 */
export class DurationError extends Error {
  readonly problem: string
  constructor(problem: string) {
    super(problem)
    this.name = 'DurationError'
    this.problem = problem
  }
}

/**
 * Parses a duration without throwing: the form to use on untrusted input.
 *
 * @example
 * tryParseDuration('1h30m') // { ok: true, ms: 5_400_000 }
 * tryParseDuration('90')    // { ok: false, problem: 'duration "90" needs a unit (…)' }
 */
export function tryParseDuration(text: string): DurationResult {
  if (typeof text !== 'string') return fail('a duration must be a string such as "1h30m"')
  if (text.length === 0) return fail('a duration must not be empty; write it like "1h30m"')
  if (text.length > MAX_TEXT_LENGTH) return fail(`a duration must be at most ${MAX_TEXT_LENGTH} characters`)
  const shown = JSON.stringify(text)
  if (text[0] === '-' || text[0] === '+') {
    return fail(`duration ${shown} must not have a sign; durations are never negative`)
  }
  if (/^\d+(\.\d+)?$/.test(text)) {
    return fail(`duration ${shown} needs a unit (${unitList()}), for example "${text}s"`)
  }
  let total = 0n
  GROUP.lastIndex = 0
  while (GROUP.lastIndex < text.length) {
    const start = GROUP.lastIndex
    const match = GROUP.exec(text)
    if (!match) return fail(`duration ${shown} is not valid at "${text.slice(start)}"; write it like "1h30m"`)
    const [, whole = '', fraction = '', unit = ''] = match
    const unitMs = UNIT_MS[unit]
    if (unitMs === undefined) {
      return fail(`duration ${shown} has an unknown unit "${unit}"; supported units: ${unitList()}`)
    }
    // Exact integer arithmetic: 0.1h is exactly 360000 ms, with no floating-point drift.
    const scale = 10n ** BigInt(fraction.length)
    const scaled = (BigInt(whole) * scale + BigInt(fraction || '0')) * unitMs
    if (scaled % scale !== 0n) {
      return fail(`duration ${shown} is not a whole number of milliseconds`)
    }
    total += scaled / scale
    if (total > BigInt(MAX_DURATION_MS))
      return fail(`duration ${shown} is too long (at most about 292 years)`)
  }
  return { ok: true, ms: Number(total) }
}

/**
 * Parses a duration into milliseconds.
 * @throws DurationError with a user-facing `problem` when `text` is not a valid duration.
 * @example parseDuration('1.5h') // 5_400_000
 */
export function parseDuration(text: string): number {
  const result = tryParseDuration(text)
  if (!result.ok) throw new DurationError(result.problem)
  return result.ms
}

/**
 * Formats milliseconds in Go's canonical `time.Duration` form.
 * @throws TypeError when `ms` is not a non-negative safe integer (a programmer error).
 * @example formatDuration(5_400_000) // '1h30m0s'
 * @example formatDuration(1_500)     // '1.5s'
 * @example formatDuration(250)       // '250ms'
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new TypeError(`formatDuration() needs a non-negative integer, got ${ms}`)
  }
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const secondsMs = ms % 60_000
  const fraction = String(secondsMs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '')
  const seconds = `${Math.floor(secondsMs / 1000)}${fraction ? `.${fraction}` : ''}s`
  if (hours > 0) return `${hours}h${minutes}m${seconds}`
  if (minutes > 0) return `${minutes}m${seconds}`
  return seconds
}

function fail(problem: string): DurationResult {
  return { ok: false, problem }
}

function unitList(): string {
  return Object.keys(UNIT_MS).join(', ')
}
