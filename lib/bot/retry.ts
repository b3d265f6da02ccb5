/**
 * Retrying one output's issuance or write within a run when the failure is transient: the auth
 * service or AWS throttled the request (`ERR_THROTTLED`, which the AWS adapters translate
 * throttling exceptions to) or could not be reached (`ERR_UPSTREAM_UNAVAILABLE`). Anything else —
 * a policy denial, a bad destination, a programmer error — fails at once: retrying cannot help.
 *
 * Delays use exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): before retry n (1-based) the caller sleeps `random() × min(cap, base × 2^(n-1))`,
 * which spreads the retries of many bots hitting one throttled API. Sleep and randomness are
 * injected, so tests run without waiting.
 *
 * @example
 * const issued = await withRetry(() => issueOutput(…), { sleep, random }, (err, n, ms) => log.warn(…))
 */
import { randomInt } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { isBrokerError } from '../errors.ts'

export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  readonly attempts: number
  readonly baseMs: number
  readonly capMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 3, baseMs: 200, capMs: 2000 })

/** Error codes worth another attempt within the same run. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['ERR_THROTTLED', 'ERR_UPSTREAM_UNAVAILABLE'])

export interface RetryDeps {
  /** Waits `ms` (may return early when the run is aborted). */
  readonly sleep: (ms: number) => Promise<void>
  /** Random number in [0, 1) for the jitter. */
  readonly random: () => number
  readonly policy?: RetryPolicy
  /** No further attempt once aborted: the last error is thrown. */
  readonly signal?: AbortSignal
}

/** True for a `BrokerError` whose code is in {@link RETRYABLE_CODES}. */
export function isRetryable(err: unknown): boolean {
  return isBrokerError(err) && RETRYABLE_CODES.has(err.code)
}

/** The full-jitter delay before retry `n` (1-based). */
export function retryDelayMs(n: number, random: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return random * Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1))
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or has used the policy's
 * attempts. Without `deps` it runs once (callers without an injected sleep do not retry).
 * `onRetry` is told about each retryable failure before the sleep that follows it.
 * @throws the last error of `attempt`.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  deps: RetryDeps | undefined,
  onRetry?: (err: unknown, retry: number, delayMs: number) => void,
): Promise<T> {
  const policy = deps?.policy ?? DEFAULT_RETRY_POLICY
  const attempts = deps === undefined ? 1 : Math.max(1, policy.attempts)
  for (let n = 1; ; n++) {
    try {
      return await attempt()
    } catch (err) {
      if (deps === undefined || n >= attempts || !isRetryable(err) || deps.signal?.aborted) throw err
      const delay = retryDelayMs(n, deps.random(), policy)
      onRetry?.(err, n, delay)
      await deps.sleep(delay)
      if (deps.signal?.aborted) throw err
    }
  }
}

/**
 * Real time and randomness, for one-shot runs (the CLI's `--oneshot`, the Lambda functions): the
 * daemon brings its own, wired to its abort signal and reload wake-ups.
 */
export const systemRetryDeps: RetryDeps = Object.freeze({
  sleep: async (ms: number) => {
    await delay(ms)
  },
  random: () => randomInt(2 ** 32) / 2 ** 32,
})
