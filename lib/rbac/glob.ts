/**
 * Glob matching for role documents.
 *
 * Two dialects, both anchored at both ends and case-sensitive:
 * - {@link matchGlob}: `*` matches any run of characters, including the empty run and newlines.
 *   Used for label values, impersonated role names and deny lists.
 * - {@link matchArnGlob}: `*` as above plus `?`, which matches exactly one character (one Unicode
 *   code point). Used for the `aws_arn` allow rules of IAM join tokens.
 *
 * Every other character is literal: `.`, `+`, `(`, `[`, `^`, `$`, `\` and the rest of the regular
 * expression syntax carry no meaning, so `db.prod` never matches `dbXprod`. There is no escape
 * character: a literal `*` cannot be expressed (no name we match against needs one). Patterns
 * are not turned into regular expressions at all: matching is a linear scan over the
 * star-separated segments, so no pattern can make a match slow (see `matchSegments`).
 *
 * Compiled patterns are cached in a bounded map (oldest entry evicted first), because the same few
 * patterns from a handful of roles are matched against every resource on every request.
 */

/** A compiled pattern: `true` when the whole of `value` matches. */
export type GlobMatcher = (value: string) => boolean

/** How many compiled patterns each dialect keeps. Beyond that the oldest is dropped. */
export const GLOB_CACHE_LIMIT = 1024

type Dialect = 'star' | 'arn'

const caches: Record<Dialect, Map<string, GlobMatcher>> = { star: new Map(), arn: new Map() }

/**
 * Compiles a `*` glob into a matcher. `?` is literal in this dialect.
 *
 * @example
 * compileGlob('dev-*')('dev-eu-1') // true
 * compileGlob('dev-*')('prod')     // false
 * compileGlob('a.b')('aXb')        // false: `.` is literal
 */
export function compileGlob(pattern: string): GlobMatcher {
  return cached('star', pattern)
}

/** `true` when `value` matches the `*` glob `pattern` as a whole. See {@link compileGlob}. */
export function matchGlob(pattern: string, value: string): boolean {
  return cached('star', pattern)(value)
}

/**
 * Compiles an ARN glob: `*` matches any run (including empty), `?` exactly one character.
 *
 * @example
 * compileArnGlob('arn:aws:sts::123456789012:assumed-role/ci-?/*')('arn:aws:sts::123456789012:assumed-role/ci-1/job') // true
 */
export function compileArnGlob(pattern: string): GlobMatcher {
  return cached('arn', pattern)
}

/** `true` when `value` matches the ARN glob `pattern` as a whole. See {@link compileArnGlob}. */
export function matchArnGlob(pattern: string, value: string): boolean {
  return cached('arn', pattern)(value)
}

/** `true` when any of `patterns` matches `value` (`*` dialect). An empty list matches nothing. */
export function matchAnyGlob(patterns: readonly string[], value: string): boolean {
  return patterns.some((pattern) => matchGlob(pattern, value))
}

function cached(dialect: Dialect, pattern: string): GlobMatcher {
  if (typeof pattern !== 'string') throw new TypeError('a glob pattern must be a string')
  const cache = caches[dialect]
  const hit = cache.get(pattern)
  if (hit !== undefined) return hit
  const matcher = compile(dialect, pattern)
  if (cache.size >= GLOB_CACHE_LIMIT) {
    // Map iteration order is insertion order, so the first key is the oldest entry.
    const oldest = cache.keys().next().value
    if (oldest !== undefined) cache.delete(oldest)
  }
  cache.set(pattern, matcher)
  return matcher
}

/** One run of the pattern between stars: literal code points, with `null` for a `?` wildcard. */
type Segment = readonly (string | null)[]

function compile(dialect: Dialect, pattern: string): GlobMatcher {
  // Fast paths for the two shapes almost every role uses.
  if (/^\*+$/.test(pattern)) return () => true
  if (!pattern.includes('*') && (dialect === 'star' || !pattern.includes('?'))) {
    return (value) => value === pattern
  }
  const segments: Segment[] = pattern
    .split('*')
    .map((part) => Array.from(part, (char) => (char === '?' && dialect === 'arn' ? null : char)))
  return (value) => matchSegments(segments, Array.from(value))
}

/**
 * Matches `value` (code points) against star-separated segments without backtracking.
 *
 * The first segment is anchored at the start, the last at the end, and each middle segment is
 * placed at its leftmost fit after the previous one. Leftmost is always safe because every
 * segment has a fixed length: a later fit leaves less room for what follows, never more. This
 * is O(value × pattern) in the worst case, where a backtracking regular expression is
 * polynomial in the number of stars (`*a*a*a*a*a*b` against 63 `a`s took 160 ms).
 */
function matchSegments(segments: readonly Segment[], value: readonly string[]): boolean {
  const first = segments[0] ?? []
  if (segments.length === 1) return value.length === first.length && fitsAt(first, value, 0)
  const last = segments[segments.length - 1] ?? []
  const end = value.length - last.length
  if (end < first.length || !fitsAt(first, value, 0) || !fitsAt(last, value, end)) return false
  let position = first.length
  for (const segment of segments.slice(1, -1)) {
    let at = position
    while (at + segment.length <= end && !fitsAt(segment, value, at)) at++
    if (at + segment.length > end) return false
    position = at + segment.length
  }
  return true
}

function fitsAt(segment: Segment, value: readonly string[], at: number): boolean {
  return segment.every((char, i) => char === null || char === value[at + i])
}
