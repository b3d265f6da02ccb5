/**
 * What the bot knows about each output's renewals, in memory: the last success (serial, expiry,
 * when the output becomes due again) and the last error. The run loop (`bot.ts`) reads it to skip
 * fresh outputs and records every attempt; a status endpoint can read it as is.
 *
 * Nothing here is persisted: a new process knows nothing, so every output is due in its first
 * cycle — it cannot tell what the destinations hold (a stale set, another bot's, nothing) without
 * reading and trusting them, and renewing once at start-up is cheap.
 *
 * @example
 * const schedule = new OutputSchedule()
 * if (schedule.isDue('ssh', clock.now())) { … schedule.recordSuccess('ssh', { … }) }
 * schedule.get('ssh')?.lastError // { code: 'ERR_THROTTLED', … } until the next success
 */
import { renewAfter } from './schedule-policy.ts'

export interface OutputError {
  readonly code: string
  readonly message: string
  /** When the attempt failed (ISO 8601). */
  readonly at: string
}

/** One output's state. Times are ISO 8601. */
export interface OutputState {
  readonly output: string
  /** The last successful renewal: when it was written, its serial and expiry. */
  readonly lastSuccessAt?: string
  readonly serial?: string
  readonly notAfter?: string
  /** The destination's version of that set (`WriteResult.versionId`). */
  readonly versionId?: string
  /** From when the output is due again (see `schedule-policy.ts`); absent before a success. */
  readonly renewAfter?: string
  /** The last failed attempt; cleared by the next success. */
  readonly lastError?: OutputError
}

export interface RenewalSuccess {
  /** When the set was written. */
  readonly at: Date
  readonly serial: string
  readonly notAfter: string
  /** The destination's version of the set written (absent from callers that do not know it). */
  readonly versionId?: string
  /** The daemon's renewal interval, which decides how early the output is due again. */
  readonly intervalMs: number
}

export class OutputSchedule {
  readonly #states = new Map<string, OutputState>()
  #nextRunAt: Date | undefined

  /**
   * When the daemon's next cycle starts, as planned when it went to sleep; `undefined` while a
   * cycle runs and outside a daemon (one-shot runs, Lambda functions). A wake starts it sooner.
   */
  get nextRunAt(): Date | undefined {
    return this.#nextRunAt
  }

  /** Set by the daemon before each sleep, cleared when it wakes. */
  planNextRun(at: Date | undefined): void {
    this.#nextRunAt = at
  }

  /** The state of `output`, or `undefined` before its first attempt. */
  get(output: string): OutputState | undefined {
    return this.#states.get(output)
  }

  /** Every output's state, in the order they were first attempted. */
  all(): OutputState[] {
    return [...this.#states.values()]
  }

  /**
   * True when `output` should be renewed at `now`: never renewed by this process, or at or past
   * its `renewAfter`. A failure does not change this: a failed output stays due.
   */
  isDue(output: string, now: Date): boolean {
    const after = this.#states.get(output)?.renewAfter
    return after === undefined || now.getTime() >= Date.parse(after)
  }

  /** The soonest `notAfter` of the outputs renewed so far, or `undefined` before any success. */
  earliestNotAfter(): Date | undefined {
    let soonest: number | undefined
    for (const state of this.#states.values()) {
      if (state.notAfter === undefined) continue
      const at = Date.parse(state.notAfter)
      if (soonest === undefined || at < soonest) soonest = at
    }
    return soonest === undefined ? undefined : new Date(soonest)
  }

  recordSuccess(output: string, success: RenewalSuccess): void {
    const notAfter = new Date(success.notAfter)
    if (Number.isNaN(notAfter.getTime())) throw new TypeError(`invalid notAfter ${success.notAfter}`)
    this.#states.set(output, {
      output,
      lastSuccessAt: success.at.toISOString(),
      serial: success.serial,
      notAfter: notAfter.toISOString(),
      ...(success.versionId !== undefined && { versionId: success.versionId }),
      renewAfter: renewAfter(success.at, notAfter, success.intervalMs).toISOString(),
    })
  }

  /**
   * Makes `outputs` due from `now` (a CA rotation step asks for every output): they stay due
   * until each succeeds, whether the cycle that saw the step fails them or renews only some.
   */
  markDue(outputs: readonly string[], now: Date): void {
    for (const output of outputs) {
      const previous = this.#states.get(output)
      if (previous?.renewAfter === undefined) continue // never renewed: due already
      this.#states.set(output, { ...previous, renewAfter: now.toISOString() })
    }
  }

  /** Keeps the last success (the destination still holds it) and sets the error. */
  recordFailure(output: string, at: Date, error: { code: string; message: string }): void {
    const previous = this.#states.get(output) ?? { output }
    this.#states.set(output, {
      ...previous,
      lastError: { code: error.code, message: error.message, at: at.toISOString() },
    })
  }
}
