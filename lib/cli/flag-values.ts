/**
 * Option values the CLI parses itself (durations, lock expiries). A value that cannot be used as
 * typed is a command line of the wrong shape: a UsageError (exit 2, with a `hint: credbroker help
 * <command>` line), like an unknown option or a bad `--format`. A well-formed value that the
 * cluster's rules refuse (a lock target the lock schema rejects, an unknown bot) stays an
 * ordinary error (exit 1).
 */
import { parseLockExpiry } from '../auth/lock-admin.ts'
import { DurationError, parseDuration } from '../duration.ts'
import { BadRequestError } from '../errors.ts'
import { type FlagValue, stringFlag } from './args.ts'
import { UsageError } from './usage-error.ts'

type Flags = Readonly<Record<string, FlagValue>>

/**
 * `--<name> DURATION` in milliseconds, or undefined when not given.
 * @throws UsageError naming the option and what is wrong, as `login --ttl` does
 *   (`--token-ttl: duration "10" needs a unit (h, m, s, ms), for example "10s"`).
 * @example
 * durationFlag({ 'token-ttl': '10m' }, 'token-ttl') // 600000
 */
export function durationFlag(flags: Flags, name: string): number | undefined {
  const text = stringFlag(flags, name)
  if (text === undefined) return undefined
  try {
    return parseDuration(text)
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`--${name}: ${err.problem}`, { cause: err })
    throw err
  }
}

/**
 * `--<name> DURATION|RFC3339` as an instant after `now`, or undefined when not given.
 * @throws UsageError naming the option (neither a duration nor an instant, or not in the future).
 */
export function expiryFlag(flags: Flags, name: string, now: Date): Date | undefined {
  const text = stringFlag(flags, name)
  if (text === undefined) return undefined
  try {
    return parseLockExpiry(text, now, `--${name}`)
  } catch (err) {
    if (err instanceof BadRequestError) throw new UsageError(err.message, { cause: err })
    throw err
  }
}
