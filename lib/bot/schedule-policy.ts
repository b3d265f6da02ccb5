/**
 * When the daemon renews an output: pure rules over time, shared by the run loop (`bot.ts`), the
 * per-output state (`output-schedule.ts`) and configuration warnings (`config.ts`).
 *
 * The daemon only looks at outputs when it wakes: every renewal interval I, ±10% jitter, so two
 * wakes are at most S = I × 1.1 apart (backoff after a failure only brings the next wake closer).
 * An output issued with lifetime L (its `not_after` minus the time it was written) is renewed at a
 * wake once its remaining lifetime r satisfies
 *
 *     r ≤ max(L / 3, 2 × S)
 *
 * - `L / 3` is the renewal threshold (cert-manager's default `renewBefore`): long-lived outputs
 *   are left alone until their last third;
 * - `2 × S` keeps two chances: an output skipped at one wake has more than 2 × S left, so at the
 *   first wake that renews it more than S is left, and if that renewal fails the next wake (at
 *   most S later) still finds it valid. With a later renewal a single failed run could let it
 *   lapse.
 *
 * ```
 *   issued ───────── skipped wakes ────────|── renew ── renew ── … ──| not_after
 *                                          ↑ max(L/3, 2S) before not_after
 * ```
 *
 * With the defaults (TTL 1h, interval 20m: S = 22m, 2 × S = 44m) every scheduled wake renews,
 * as tbot does: it comes 18–22m after the last issuance and finds 38–42m left. What is skipped are
 * outputs renewed moments ago, at the backoff wakes that retry another output's failure. An 8h
 * TTL is renewed once less than 2h40m remain.
 *
 * Two chances need L > 2 × S: the first wake after an issuance comes at most S later, and it must
 * leave more than S for the next one. {@link scheduleWarning} reports configurations where that
 * fails.
 */
import { formatDuration } from '../duration.ts'

/** The daemon sleeps the renewal interval × (1 ± JITTER). */
export const JITTER = 0.1

/** Renew once less than this fraction of the issued lifetime remains. */
export const RENEW_FRACTION = 1 / 3

/** One jittered sleep of the daemon: `random` in [0, 1) maps to [I × 0.9, I × 1.1). */
export function jitteredIntervalMs(intervalMs: number, random: number): number {
  return intervalMs * (1 - JITTER + 2 * JITTER * random)
}

/** The longest the daemon sleeps between two scheduled wakes. */
export function maxSleepMs(intervalMs: number): number {
  return intervalMs * (1 + JITTER)
}

/**
 * The remaining lifetime at or below which an output is due: `max(lifetime / 3, 2 × S)` (see the
 * module comment). `lifetimeMs` is what the output was issued with, which the server may have cut
 * below the configured TTL.
 */
export function renewBeforeMs(lifetimeMs: number, intervalMs: number): number {
  return Math.max(lifetimeMs * RENEW_FRACTION, 2 * maxSleepMs(intervalMs))
}

/**
 * The instant from which an output issued at `issuedAt`, valid until `notAfter`, is due; at or
 * before `issuedAt` when it is due at every wake (a lifetime of at most 2 × S).
 */
export function renewAfter(issuedAt: Date, notAfter: Date, intervalMs: number): Date {
  const lifetime = Math.max(0, notAfter.getTime() - issuedAt.getTime())
  return new Date(notAfter.getTime() - renewBeforeMs(lifetime, intervalMs))
}

/**
 * The wait after a failed cycle: the daemon's `backoffMs` (1s doubling up to the interval), but at
 * most half of `remainingMs`, what the soonest-expiring output has left (never below `floorMs`).
 * A long outage would otherwise grow the backoff to a whole interval just as credentials run
 * out; capped, the retries get denser as expiry nears (r, r/2, r/4, … down to the floor), so a
 * service that comes back in time is used in time. The backoff stands when `remainingMs` is
 * `undefined` (no output issued yet) or not positive (it has lapsed: hurrying no longer saves it,
 * and a service that stays down should not be called every second).
 */
export function failureWaitMs(backoffMs: number, remainingMs: number | undefined, floorMs: number): number {
  if (remainingMs === undefined || remainingMs <= 0) return backoffMs
  return Math.min(backoffMs, Math.max(floorMs, remainingMs / 2))
}

/**
 * The warning for a credential of `ttlMs` renewed by a daemon waking every `intervalMs` (±10%)
 * when it cannot get two renewal chances before it expires: `ttl ≤ 2 × interval × 1.1` (the
 * first wake after issuance may come 1.1 intervals later and must leave more than that for the
 * next). `undefined` when two chances are guaranteed. The sentence starts with the subject it is
 * given (`outputs[0] (ssh)`, `the bot identity`).
 */
export function scheduleWarning(subject: string, ttlMs: number, intervalMs: number): string | undefined {
  const sleep = maxSleepMs(intervalMs)
  if (ttlMs > 2 * sleep) return undefined
  return (
    `${subject}: credential_ttl ${formatDuration(ttlMs)} leaves fewer than two renewal chances: ` +
    `the daemon wakes every renewal_interval ${formatDuration(intervalMs)} ±10% (up to ` +
    `${formatDuration(Math.round(sleep))} apart), so a credential must live more than ` +
    `${formatDuration(Math.round(2 * sleep))} for one failed renewal to be retried before it expires`
  )
}
