/**
 * Time as a dependency. Everything in `lib/` that compares or produces timestamps takes a
 * {@link Clock} so tests can freeze and advance time instead of sleeping.
 */
export interface Clock {
  /** The current instant. */
  now(): Date
}

/** Wall-clock time. The only place in `lib/` that reads the system clock. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() })

/**
 * A clock that moves only when told to. Used by tests and by the conformance suites to check
 * expiry without waiting.
 */
export class ManualClock implements Clock {
  #ms: number

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#ms = typeof start === 'number' ? start : start.getTime()
  }

  now(): Date {
    return new Date(this.#ms)
  }

  /** Moves time forward by `ms` milliseconds (negative values are a programmer error). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new TypeError(`advance() needs a non-negative duration, got ${ms}`)
    this.#ms += ms
  }

  /** Jumps to an absolute instant. */
  set(at: Date | number): void {
    this.#ms = typeof at === 'number' ? at : at.getTime()
  }
}
