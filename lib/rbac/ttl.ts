/**
 * Certificate lifetime: the requested TTL clamped by every limit that applies.
 */
import { parseDuration } from '../duration.ts'
import type { Role } from '../resources/types.ts'

/**
 * The `max_session_ttl` of a role that sets none: 12 hours, Teleport's default for roles and the
 * value of the role it creates for every bot.
 */
export const DEFAULT_MAX_SESSION_TTL_MS = 12 * 60 * 60 * 1000

/** Which limit decided a TTL. `role:<name>` is that role's `max_session_ttl`. */
export type TtlLimit = 'requested' | 'server' | 'identity' | `role:${string}`

export interface TtlInput {
  /** What the caller asked for, in milliseconds. */
  readonly requestedMs: number
  /** The roles the certificate will carry; each one's `max_session_ttl` caps it. */
  readonly roles: readonly Role[]
  /** The server's own ceiling for this kind of certificate. */
  readonly serverMaxMs: number
  /**
   * Expiry (epoch ms) of the identity the request is made with, when it caps the result:
   * impersonated certificates never outlive the bot identity that asked for them.
   */
  readonly notAfterMs?: number
  /** The current instant (epoch ms), from the caller's clock. */
  readonly nowMs: number
  /** `max_session_ttl` for roles without one. Defaults to {@link DEFAULT_MAX_SESSION_TTL_MS}. */
  readonly defaultMaxSessionTtlMs?: number
}

export interface TtlResult {
  /** The lifetime to issue, never negative. `0` means "cannot issue": the caller must refuse. */
  readonly ttlMs: number
  /** The limit that produced `ttlMs`. On a tie the earliest in the order below wins. */
  readonly limitedBy: TtlLimit
}

/**
 * `min(requested, each role's max_session_ttl, serverMax, notAfter - now)`, floored at 0.
 *
 * Ties go to the first limit in this order: requested, roles (in the order given), server,
 * identity; so a request that already fits reports `requested`. An identity that has already
 * expired gives `{ ttlMs: 0, limitedBy: 'identity' }`. Role durations are Go-style strings
 * (`"8h"`, `"1h30m"`) that validation has already accepted; a malformed one throws from
 * `parseDuration`. Non-finite or negative numeric inputs are programmer errors (`TypeError`).
 *
 * @example
 * clampTtl({ requestedMs: HOUR, roles: [role8h], serverMaxMs: DAY, nowMs, notAfterMs: nowMs + 20 * MINUTE })
 * // { ttlMs: 20 * MINUTE, limitedBy: 'identity' }
 */
export function clampTtl(input: TtlInput): TtlResult {
  const defaultMs = input.defaultMaxSessionTtlMs ?? DEFAULT_MAX_SESSION_TTL_MS
  checkDuration('requestedMs', input.requestedMs)
  checkDuration('serverMaxMs', input.serverMaxMs)
  checkDuration('defaultMaxSessionTtlMs', defaultMs)
  checkInstant('nowMs', input.nowMs)
  const limits: Array<readonly [TtlLimit, number]> = [['requested', input.requestedMs]]
  for (const role of input.roles) {
    const text = role.spec.options.max_session_ttl
    limits.push([`role:${role.metadata.name}`, text === undefined ? defaultMs : parseDuration(text)])
  }
  limits.push(['server', input.serverMaxMs])
  if (input.notAfterMs !== undefined) {
    checkInstant('notAfterMs', input.notAfterMs)
    limits.push(['identity', input.notAfterMs - input.nowMs])
  }
  let [limitedBy, ttlMs] = limits[0] as readonly [TtlLimit, number]
  for (const [name, ms] of limits) {
    if (ms < ttlMs) [limitedBy, ttlMs] = [name, ms]
  }
  return { ttlMs: Math.max(0, ttlMs), limitedBy }
}

function checkDuration(name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`clampTtl: ${name} must be a finite ms count >= 0`)
}

function checkInstant(name: string, ms: number): void {
  if (!Number.isFinite(ms)) throw new TypeError(`clampTtl: ${name} must be a finite epoch ms`)
}
