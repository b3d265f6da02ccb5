/**
 * Per-caller token buckets: each caller may make `capacity` requests at once and regains one
 * every `60_000 / perMinute` ms. Time comes from the injected clock; the map of callers is
 * bounded (least recently used evicted first), so many distinct callers cannot grow it without
 * limit.
 *
 * @example
 * const limiter = new RateLimiter({ clock, perMinute: 6 })
 * if (!limiter.take('arn:aws:iam::123456789012:role/ops')) throw new ThrottledError('…')
 */
import type { Clock } from '../clock.ts'

export interface RateLimiterOptions {
  readonly clock: Clock
  /** Sustained requests per minute, per caller. */
  readonly perMinute: number
  /** Burst size; default `perMinute`. */
  readonly capacity?: number
  /** Callers remembered at most; default 1024. */
  readonly maxCallers?: number
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  readonly #clock: Clock
  readonly #refillMs: number
  readonly #capacity: number
  readonly #maxCallers: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: RateLimiterOptions) {
    if (!(options.perMinute > 0)) throw new TypeError('perMinute must be positive')
    this.#clock = options.clock
    this.#refillMs = 60_000 / options.perMinute
    this.#capacity = options.capacity ?? options.perMinute
    this.#maxCallers = options.maxCallers ?? 1024
  }

  /** Takes one token for `caller`; `false` (and nothing taken) when the bucket is empty. */
  take(caller: string): boolean {
    const now = this.#clock.now().getTime()
    const bucket = this.#buckets.get(caller) ?? { tokens: this.#capacity, at: now }
    this.#buckets.delete(caller) // re-inserted last: the map's order is recency
    const refilled = Math.min(this.#capacity, bucket.tokens + Math.max(0, now - bucket.at) / this.#refillMs)
    const ok = refilled >= 1
    this.#buckets.set(caller, { tokens: ok ? refilled - 1 : refilled, at: now })
    while (this.#buckets.size > this.#maxCallers) {
      const oldest = this.#buckets.keys().next().value
      if (oldest === undefined) break
      this.#buckets.delete(oldest)
    }
    return ok
  }
}
