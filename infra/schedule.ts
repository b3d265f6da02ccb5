/**
 * The rotate function's schedule: an EventBridge Scheduler expression, checked before anything is
 * deployed. Pure (no SST globals), so unit tests import it directly.
 */
import { InvalidConfigError } from '../lib/errors.ts'

/** A schedule expression as `sst.aws.CronV2` types it. */
export type ScheduleExpression = `rate(${string})` | `cron(${string})`

/** Every 20 minutes: the bot's default renewal interval (tbot's). */
export const DEFAULT_SCHEDULE: ScheduleExpression = 'rate(20 minutes)'

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const
const RATE = /^rate\((\d{1,5}) (minute|minutes|hour|hours|day|days)\)$/
/** Six space-separated fields (minutes hours day-of-month month day-of-week year); Scheduler checks the rest. */
const CRON = /^cron\(\S+( \S+){5}\)$/

export interface Schedule {
  readonly expression: ScheduleExpression
  /** The interval of a `rate()` expression; undefined for `cron()`, whose interval varies. */
  readonly intervalMs: number | undefined
}

/**
 * Parses `rate(N unit)` or `cron(…)`. EventBridge wants the singular unit for 1 and the plural
 * otherwise (`rate(1 hour)`, `rate(20 minutes)`); one-time `at()` schedules make no sense for
 * rotation and are refused.
 * @throws InvalidConfigError naming `field`.
 */
export function parseSchedule(text: string, field: string): Schedule {
  const rate = RATE.exec(text)
  if (rate) {
    const n = Number(rate[1])
    const unit = rate[2] ?? ''
    const singular = unit.replace(/s$/, '') as keyof typeof UNIT_MS
    if (n < 1) throw new InvalidConfigError(field, `the rate must be at least 1 (got "${text}")`)
    if ((n === 1) !== (unit === singular)) {
      const fixed = `rate(${n} ${n === 1 ? singular : `${singular}s`})`
      throw new InvalidConfigError(field, `write "${fixed}": EventBridge wants "${singular}" for 1 only`)
    }
    return { expression: text as ScheduleExpression, intervalMs: n * UNIT_MS[singular] }
  }
  if (CRON.test(text)) return { expression: text as ScheduleExpression, intervalMs: undefined }
  throw new InvalidConfigError(
    field,
    `must be "rate(<n> minutes|hours|days)" or "cron(<6 fields>)", such as "${DEFAULT_SCHEDULE}" (got "${text}")`,
  )
}
